// Runs in <head> before the page is drawn: show 朗读 controls only where the browser can speak (no layout shift).
if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
  document.documentElement.classList.add("can-speak");
}
