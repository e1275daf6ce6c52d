// The desk's small script: search and reply keys, and the
// reply box's weighted character count (asked of the server, which uses twitter-text).
(function () {
  "use strict";
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing) { if (e.key === "Escape") document.activeElement.blur(); return; }
    // j/k, x and Enter belong to the inbox (inbox.js): they follow the ticket, not the row.
    if (e.key === "/") { const q = document.getElementById("q"); if (q) { e.preventDefault(); q.focus(); } }
    else if (e.key === "r") { const r = document.getElementById("reply-body"); if (r) { e.preventDefault(); r.focus(); } }
  });
  const reply = document.getElementById("reply-body");
  const counter = document.getElementById("reply-count");
  if (reply && counter) {
    let timer = null;
    const update = () => {
      fetch("/desk/count?" + new URLSearchParams({ text: reply.value }), { credentials: "same-origin" })
        .then((r) => r.json())
        .then((d) => { counter.textContent = d.weighted + " / " + d.limit; counter.classList.toggle("over", d.weighted > d.limit); });
    };
    reply.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 150); });
    update();
  }
  const picker = document.getElementById("template-picker");
  if (picker && reply) picker.addEventListener("change", () => { if (picker.value) { reply.value = picker.value; reply.dispatchEvent(new Event("input")); } });
})();
