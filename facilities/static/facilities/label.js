// The label page's Print button (facilities/templates/admin/facilities/asset/label.html): a
// file, not an inline handler, for the Content-Security-Policy. Without scripts the button
// stays hidden and the browser's own Print prints the label just the same.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print-label]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
