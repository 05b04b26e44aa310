// Site-wide progressive enhancements (loaded by templates/base.html; a static file, as the CSP
// allows no inline script). Everything works without it; it only makes pages easier to use.
(function () {
  "use strict";

  // After a failed submit, move focus to the error summary so screen readers announce it and
  // keyboard users can follow its links to each field.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  // Lists become stacked cards on narrow screens (policyhub.css): label each cell with its
  // column's heading so a card reads "Status: Submitted" without the hidden table head.
  var tables = document.querySelectorAll(".table-responsive > table");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.querySelectorAll("thead th");
    if (!heads.length) return;
    Array.prototype.forEach.call(table.querySelectorAll("tbody > tr"), function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        var label = heads[i] ? heads[i].textContent.trim() : "";
        if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
      });
    });
  });
})();
