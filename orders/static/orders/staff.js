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
          message = "Move the selected orders to " + to.value + "? This cannot be undone.";
        }
        if (message && !window.confirm(message)) { event.preventDefault(); }
      });
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
