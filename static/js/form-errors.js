// Move focus to the error summary so screen-reader and keyboard users hear what went wrong.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
