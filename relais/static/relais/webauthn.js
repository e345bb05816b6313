// Security keys (WebAuthn) for the second factor. No inline script: the buttons carry
// their endpoints in data attributes, the CSRF token in a hidden form field.
(function () {
  "use strict";

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(message) {
    var status = document.getElementById("webauthn-status");
    if (status) { status.textContent = message; }
  }

  function supported() {
    return window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";
  }

  async function run(button, ceremony) {
    if (!supported()) {
      say("Votre navigateur ne permet pas d'utiliser une clé de sécurité. Utilisez le code de votre application.");
      return;
    }
    button.disabled = true;
    say("Suivez les indications de votre navigateur…");
    try {
      var optionsResponse = await fetch(button.dataset.optionsUrl, { credentials: "same-origin" });
      var options = await optionsResponse.json();
      if (!optionsResponse.ok) { throw new Error(options.error); }
      var credential = ceremony === "create"
        ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      var verify = await fetch(button.dataset.verifyUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(credential.toJSON())
      });
      var result = await verify.json();
      if (!verify.ok) { throw new Error(result.error); }
      say("Clé reconnue.");
      window.location.assign(result.redirect);
    } catch (error) {
      say((error && error.message && error.name !== "NotAllowedError")
        ? error.message
        : "L'opération a été annulée ou la clé n'a pas répondu. Réessayez.");
      button.disabled = false;
      button.focus();
    }
  }

  var register = document.getElementById("webauthn-register");
  if (register) { register.addEventListener("click", function () { run(register, "create"); }); }
  var authenticate = document.getElementById("webauthn-authenticate");
  if (authenticate) { authenticate.addEventListener("click", function () { run(authenticate, "get"); }); }
})();
