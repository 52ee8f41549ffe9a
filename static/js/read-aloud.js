// 朗读: read the main text aloud with the browser's own speech synthesis (zh-CN), one paragraph at a time.
(function () {
  "use strict";
  var synth = window.speechSynthesis;
  if (!synth || typeof window.SpeechSynthesisUtterance !== "function") { return; }

  var READABLE = "p, h2, h3, h4, li, blockquote, td, th";

  function chineseVoice() {
    var voices = synth.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if (/^zh[-_]CN/i.test(voices[i].lang)) { return voices[i]; }
    }
    for (var j = 0; j < voices.length; j++) {
      if (/^zh/i.test(voices[j].lang)) { return voices[j]; }
    }
    return null;
  }

  function setup(box) {
    var target = document.querySelector(box.getAttribute("data-read-aloud"));
    if (!target) { box.hidden = true; return; }
    var parts = Array.prototype.filter.call(target.querySelectorAll(READABLE), function (el) {
      // Skip containers whose text is read through their own children.
      return el.textContent.trim() && !el.querySelector(READABLE);
    });
    if (!parts.length) { box.hidden = true; return; }
    var buttons = {};
    ["start", "pause", "resume", "stop"].forEach(function (name) {
      buttons[name] = box.querySelector('[data-action="' + name + '"]');
    });
    var status = box.querySelector(".read-aloud-status");
    var index = -1;
    var reading = false;

    function show(state) {
      buttons.start.hidden = state !== "idle";
      buttons.pause.hidden = state !== "reading";
      buttons.resume.hidden = state !== "paused";
      buttons.stop.hidden = state === "idle";
      box.setAttribute("data-state", state);
    }

    function mark(el) {
      parts.forEach(function (p) { p.classList.remove("is-reading"); });
      if (el) {
        el.classList.add("is-reading");
        if (el.scrollIntoView) { el.scrollIntoView({ block: "nearest" }); }
      }
    }

    function speak(i) {
      if (!reading) { return; }
      if (i >= parts.length) { finish("朗读完毕"); return; }
      index = i;
      mark(parts[i]);
      status.textContent = "正在朗读第 " + (i + 1) + " 段，共 " + parts.length + " 段";
      var utterance = new window.SpeechSynthesisUtterance(parts[i].textContent.trim());
      utterance.lang = "zh-CN";
      var voice = chineseVoice();
      if (voice) { utterance.voice = voice; }
      utterance.onend = function () { if (reading && index === i) { speak(i + 1); } };
      utterance.onerror = function (event) {
        if (event && (event.error === "interrupted" || event.error === "canceled")) { return; }
        finish("朗读出错，已停止");
      };
      synth.speak(utterance);
    }

    function finish(message) {
      reading = false;
      index = -1;
      mark(null);
      status.textContent = message;
      show("idle");
    }

    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (!button) { return; }
      var action = button.getAttribute("data-action");
      if (action === "start") {
        synth.cancel();
        reading = true;
        show("reading");
        speak(0);
        buttons.pause.focus();
      } else if (action === "pause") {
        synth.pause();
        status.textContent = "已暂停（第 " + (index + 1) + " 段）";
        show("paused");
        buttons.resume.focus();
      } else if (action === "resume") {
        synth.resume();
        status.textContent = "继续朗读第 " + (index + 1) + " 段";
        show("reading");
        buttons.pause.focus();
      } else if (action === "stop") {
        reading = false;
        synth.cancel();
        finish("已停止朗读");
        buttons.start.focus();
      }
    });
    window.addEventListener("pagehide", function () { synth.cancel(); });
    show("idle");
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-read-aloud]"), setup);
})();
