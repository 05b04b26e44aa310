// Keeps "time left" badges live: every 30 seconds each badge with data-due is recomputed in the
// browser, in the same words and colours the server uses (incidents/templatetags/incident_tags.py).
(function () {
  "use strict";
  var DUE_SOON_MS = 4 * 3600 * 1000;

  function duration(ms) {
    var minutes = Math.max(1, Math.floor(ms / 60000));
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    var parts = [];
    if (hours) parts.push(hours + (hours === 1 ? " hour" : " hours"));
    if (rest) parts.push(rest + (rest === 1 ? " minute" : " minutes"));
    return parts.join(" ");
  }

  function update() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (badge) {
      var left = Date.parse(badge.getAttribute("data-due")) - now;
      var tone = left <= 0 ? "danger" : left < DUE_SOON_MS ? "warning" : "info";
      var label = left <= 0 ? "Overdue by " + duration(-left) : duration(left) + " left";
      if (badge.textContent !== label) badge.textContent = label;
      badge.classList.remove("text-bg-danger", "text-bg-warning", "text-bg-info");
      badge.classList.add("text-bg-" + tone);
    });
  }

  update();
  window.setInterval(update, 30000);
})();
