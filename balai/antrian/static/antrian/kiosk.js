/* Kiosk ticket page: a print button, and back to the lane buttons after a while. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });
  var back = document.querySelector("[data-return-after]");
  if (back) {
    var seconds = parseInt(back.getAttribute("data-return-after"), 10) || 30;
    window.setTimeout(function () { window.location.assign(back.href); }, seconds * 1000);
  }
})();
