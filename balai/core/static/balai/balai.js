/* Balai: the little JavaScript the pages use. Pages work without it. */
(function () {
  "use strict";

  /* An error summary: say so in the title, and focus it (also after an htmx swap). */
  function summarise(root) {
    var summary = (root || document).querySelector("#ringkasan-kesalahan");
    if (!summary) return;
    var prefix = summary.getAttribute("data-title-prefix");
    if (prefix && document.title.indexOf(prefix + ": ") !== 0) {
      document.title = prefix + ": " + document.title;
    }
    summary.focus();
  }

  /* A link in the error summary focuses its field, not only scrolls to it. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#ringkasan-kesalahan a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    var field = target.matches("input, select, textarea, button")
      ? target
      : target.querySelector("input, select, textarea, button");
    if (!field) return;
    event.preventDefault();
    var holder = field.closest(".field");
    (holder || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", function () { summarise(document); });
  document.addEventListener("htmx:afterSettle", function (event) { summarise(event.target); });
})();
