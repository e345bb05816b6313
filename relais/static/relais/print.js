// "Imprimer" buttons: no inline script under the Content-Security-Policy, so the button
// carries a data attribute and is shown only once this script can act on it.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-relais-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
