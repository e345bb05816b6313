// "Écouter": reads the page's main content aloud with the browser's own speech synthesis,
// in the page's language. Hidden when the browser cannot speak.
(function () {
  "use strict";
  var button = document.getElementById("relais-ecouter");
  var content = document.getElementById("relais-lecture");
  if (!button || !content || !("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
    return;
  }
  var synth = window.speechSynthesis;
  var lang = button.getAttribute("data-voice-lang") || document.documentElement.lang || "fr";
  var regionFor = { fr: "fr-FR", en: "en-GB", ar: "ar-SA" };

  function voiceFor(language) {
    var voices = synth.getVoices();
    var exact = regionFor[language] || language;
    for (var i = 0; i < voices.length; i++) {
      if (voices[i].lang === exact) { return voices[i]; }
    }
    for (var j = 0; j < voices.length; j++) {
      if (voices[j].lang && voices[j].lang.toLowerCase().indexOf(language.toLowerCase()) === 0) { return voices[j]; }
    }
    return null;
  }

  function readableText() {
    var copy = content.cloneNode(true);
    var skipped = copy.querySelectorAll("[data-listen-skip], script, style, [hidden], [aria-hidden='true']");
    for (var i = 0; i < skipped.length; i++) { skipped[i].remove(); }
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function showState(speaking) {
    button.textContent = button.getAttribute(speaking ? "data-label-stop" : "data-label-listen");
    button.setAttribute("aria-pressed", speaking ? "true" : "false");
    button.classList.toggle("fr-icon-volume-up-line", !speaking);
    button.classList.toggle("fr-icon-stop-circle-line", speaking);
  }

  button.addEventListener("click", function () {
    if (synth.speaking || synth.pending) {
      synth.cancel();
      showState(false);
      return;
    }
    var utterance = new SpeechSynthesisUtterance(readableText());
    utterance.lang = regionFor[lang] || lang;
    var voice = voiceFor(lang);
    if (voice) { utterance.voice = voice; }
    utterance.rate = 0.9;
    utterance.onend = function () { showState(false); };
    utterance.onerror = function () { showState(false); };
    showState(true);
    synth.speak(utterance);
  });

  window.addEventListener("pagehide", function () { synth.cancel(); });
  button.hidden = false;
})();
