// Suggestions as you type: fills the <datalist> from /api/search/suggest/.
(function () {
  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch) return;
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (!q) { list.innerHTML = ""; return; }
    timer = setTimeout(function () {
      fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) {
          list.innerHTML = "";
          data.suggestions.forEach(function (s) {
            var option = document.createElement("option");
            option.value = s.text;
            option.label = s.label;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }, 150);
  });
})();
