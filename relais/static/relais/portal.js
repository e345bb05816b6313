// "Écouter": reads the page's main content aloud with the browser's own speech synthesis,
// in the page's language, and parts marked with another language in theirs. Hidden when the
// browser cannot speak.
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

  // The main content as (language, text) parts, in reading order: text marked with another
  // language (catalogue text stays in French on English or Arabic pages) gets its own voice.
  function readableParts() {
    var copy = content.cloneNode(true);
    var skipped = copy.querySelectorAll("[data-listen-skip], script, style, [hidden], [aria-hidden='true']");
    for (var i = 0; i < skipped.length; i++) { skipped[i].remove(); }
    var parts = [];
    var walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var marked = node.parentElement && node.parentElement.closest("[lang]");
      var language = (marked && copy.contains(marked) ? marked.getAttribute("lang") : lang) || lang;
      var last = parts[parts.length - 1];
      if (last && last.language === language) {
        last.text += " " + node.textContent;
      } else {
        parts.push({ language: language, text: node.textContent });
      }
    }
    return parts
      .map(function (part) { return { language: part.language, text: part.text.replace(/\s+/g, " ").trim() }; })
      .filter(function (part) { return part.text !== ""; });
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
    var parts = readableParts();
    if (parts.length === 0) { return; }
    showState(true);
    parts.forEach(function (part, index) {
      var utterance = new SpeechSynthesisUtterance(part.text);
      utterance.lang = regionFor[part.language] || part.language;
      var voice = voiceFor(part.language);
      if (voice) { utterance.voice = voice; }
      utterance.rate = 0.9;
      utterance.onerror = function () { synth.cancel(); showState(false); };
      if (index === parts.length - 1) { utterance.onend = function () { showState(false); }; }
      synth.speak(utterance);
    });
  });

  window.addEventListener("pagehide", function () { synth.cancel(); });
  button.hidden = false;
})();
