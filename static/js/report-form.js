// Report form: show the "child at risk" guidance for DSL categories or a child at risk now, and the
// staff list only when the concern is about staff. Without JavaScript both stay visible.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var DSL = ["safeguarding", "prevent", "illegal_content"];
  var guidance = form.querySelector("[data-guidance]");
  var subject = form.querySelector("[data-subject]");

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function update() {
    var urgent = DSL.indexOf(checked("category")) !== -1 || checked("child_at_risk") === "yes";
    if (guidance) guidance.hidden = !urgent;
    if (subject) subject.hidden = checked("involved") !== "staff";
  }

  form.addEventListener("change", update);
  update();
})();
