// The admin's small comforts, with no inline script (the pages' CSP allows none):
// the staff member's time zone for the server, select-all, confirmations, copy buttons.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("staff_tz=" + zone) === -1) {
    document.cookie = "staff_tz=" + zone + "; path=/admin/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=selected]").forEach(function (box) {
          box.checked = all.checked;
        });
      });
    }
    // A form (or its submit button) with data-confirm asks first; the bulk form asks when the
    // chosen status is one of data-confirm-statuses.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var button = event.submitter;
        var message = (button && button.dataset.confirm) || form.dataset.confirm;
        var to = form.querySelector("select[name=to]");
        if (!message && to && form.dataset.confirmStatuses && button && button.name === "apply" &&
            form.dataset.confirmStatuses.split(" ").indexOf(to.value) !== -1) {
          message = "Move the selected orders to " + to.options[to.selectedIndex].text +
            "? This cannot be undone.";
        }
        if (message && !window.confirm(message)) { event.preventDefault(); }
      });
    });
    // The list's drop-downs of ticks: one open at a time; a click elsewhere or Escape closes it.
    var dropdowns = document.querySelectorAll("details.wo-dropdown");
    dropdowns.forEach(function (dropdown) {
      dropdown.addEventListener("toggle", function () {
        if (!dropdown.open) { return; }
        dropdowns.forEach(function (other) { if (other !== dropdown) { other.open = false; } });
      });
    });
    document.addEventListener("click", function (event) {
      dropdowns.forEach(function (dropdown) {
        if (dropdown.open && !dropdown.contains(event.target)) { dropdown.open = false; }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { dropdowns.forEach(function (d) { d.open = false; }); }
    });
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  });
})();
