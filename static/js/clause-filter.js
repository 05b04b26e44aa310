// Triage form: a search box over every clause (suggested ones and those collapsed by section). Typing
// opens the sections that have a match and hides the rest; clearing it closes them again. Ticked clauses
// always stay in view. Without JavaScript the sections are plain <details> elements. No inline script:
// the page's CSP forbids it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-clause-filter]");
  if (!form) return;
  var picker = form.querySelector("[data-clause-picker]");
  if (!picker) return;
  var rows = picker.querySelectorAll(".clause-option");
  if (!rows.length) return;
  var sections = picker.querySelectorAll("details.clause-section");
  var box = document.createElement("div");
  box.className = "mb-2";
  var label = document.createElement("label");
  label.className = "form-label small mb-0";
  label.htmlFor = "clause-filter";
  label.textContent = "Filter clauses";
  var input = document.createElement("input");
  input.type = "search";
  input.id = "clause-filter";
  input.className = "form-control form-control-sm";
  input.setAttribute("placeholder", "e.g. images, 7.4, parents");
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  box.appendChild(label);
  box.appendChild(input);
  box.appendChild(status);
  var legend = picker.querySelector("legend");
  picker.insertBefore(box, legend ? legend.nextSibling : picker.firstChild);

  function ticked(row) {
    var option = row.querySelector('input[type="checkbox"]');
    return option && option.checked;
  }

  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var match = ticked(row) || words.every(function (w) { return text.indexOf(w) !== -1; });
      row.hidden = !match;
      if (match) shown += 1;
    });
    sections.forEach(function (section) {
      var visible = section.querySelectorAll(".clause-option:not([hidden])").length > 0;
      if (words.length) {
        section.hidden = !visible;
        section.open = visible;
      } else {
        section.hidden = false;
        section.open = Array.prototype.some.call(section.querySelectorAll(".clause-option"), ticked);
      }
    });
    status.textContent = shown + " clauses shown";
  });
})();
