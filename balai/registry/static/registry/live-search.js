/* Search as you type on the register's search page (registry/search.html).

   After a pause in typing, ask the server for the results alone
   (registry:search-results, a small HTML fragment) and show them in place.
   Cheap on a weak link: nothing is asked before 3 characters, nor for a
   number that is not yet a whole NIK / KK number (16 digits), nor twice for
   the same search; a request still running is aborted when typing goes on.
   Without JavaScript (or without fetch) the form submits as a whole page. */
(function () {
  "use strict";

  var PAUSE_MS = 400;
  var MIN_CHARS = 3;
  var SEPARATORS = /[\s.\-]/g;

  function searchOf(form) {
    var params = new URLSearchParams(new FormData(form));
    params.delete("page");
    return params.toString();
  }

  function setUp(form) {
    var input = form.querySelector("input[name='q']");
    var target = document.getElementById(form.getAttribute("data-live-target"));
    var endpoint = form.getAttribute("data-live-search");
    if (!input || !target || !endpoint) return;

    var timer = null;
    var running = null;
    var shown = searchOf(form);

    function stop() {
      if (running) {
        running.abort();
        running = null;
        target.removeAttribute("aria-busy");
      }
    }

    function worthAsking(text) {
      if (text.length < MIN_CHARS) return false;
      var digits = text.replace(SEPARATORS, "");
      return !/^\d+$/.test(digits) || digits.length === 16;
    }

    function ask() {
      var text = input.value.trim();
      if (text === "") {
        // The box emptied: no results to show.
        target.innerHTML = "";
        shown = null;
        if (window.history.replaceState) {
          window.history.replaceState(null, "", window.location.pathname);
        }
        return;
      }
      if (!worthAsking(text)) return;
      var key = searchOf(form);
      if (key === shown) return;
      stop();
      var controller = new AbortController();
      running = controller;
      target.setAttribute("aria-busy", "true");
      fetch(endpoint + "?" + key, {
        signal: controller.signal,
        credentials: "same-origin",
        headers: { Accept: "text/html" }
      })
        .then(function (response) {
          // Logged out meanwhile (sent to the login page) or a server error:
          // leave the page as it is; the Cari button still works.
          if (!response.ok || response.redirected) throw new Error("tidak dipakai");
          return response.text();
        })
        .then(function (html) {
          if (running !== controller) return;
          target.innerHTML = html;
          shown = key;
          // A name (never a whole number) goes into the address, so going
          // back to this page shows the same results.
          if (!/^\d+$/.test(text.replace(SEPARATORS, "")) && window.history.replaceState) {
            window.history.replaceState(null, "", "?" + key);
          }
        })
        .catch(function () { /* aborted, offline or refused: nothing to do */ })
        .then(function () {
          if (running === controller) {
            running = null;
            target.removeAttribute("aria-busy");
          }
        });
    }

    // "input" also fires when a filter (select) changes.
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      stop();
      timer = window.setTimeout(ask, PAUSE_MS);
    });
    // A whole-page submit (Enter, the Cari button) needs no answer in flight.
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
      stop();
    });
  }

  function start() {
    if (!window.fetch || !window.AbortController || !window.URLSearchParams) return;
    var forms = document.querySelectorAll("form[data-live-search]");
    for (var i = 0; i < forms.length; i++) setUp(forms[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
