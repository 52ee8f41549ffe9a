// Phones: the 筛选 box below the results starts folded; wider screens keep it open beside them (and so does
// a browser without JavaScript).
(function () {
  var box = document.querySelector("details[data-fold-below]");
  if (!box || !window.matchMedia) return;
  if (window.matchMedia("(max-width: " + box.getAttribute("data-fold-below") + ")").matches) box.open = false;
})();
