// Triage form: a search box that filters the list of clauses as you type. Without JavaScript the
// whole list shows. No inline script: the page's CSP forbids it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-clause-filter]");
  if (!form) return;
  var options = form.querySelectorAll('input[type="checkbox"][name$="-clauses"]');
  if (!options.length) return;
  var first = options[0].closest(".form-check") || options[0].parentNode;
  var box = document.createElement("div");
  box.className = "mb-2";
  var label = document.createElement("label");
  label.className = "form-label small";
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
  first.parentNode.insertBefore(box, first);
  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    options.forEach(function (option) {
      var row = option.closest(".form-check") || option.parentNode;
      var text = row.textContent.toLowerCase();
      var match = option.checked || words.every(function (w) { return text.indexOf(w) !== -1; });
      row.hidden = !match;
      if (match) shown += 1;
    });
    status.textContent = shown + " clauses shown";
  });
})();
