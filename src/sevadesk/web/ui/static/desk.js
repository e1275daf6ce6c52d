// The desk's small script: search and keyboard keys (the live inbox is inbox.js's, the
// reply box replies.js's).
(function () {
  "use strict";
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing) { if (e.key === "Escape") document.activeElement.blur(); return; }
    // j/k, x and Enter belong to the inbox (inbox.js): they follow the ticket, not the row.
    if (e.key === "/") { const q = document.getElementById("q"); if (q) { e.preventDefault(); q.focus(); } }
    else if (e.key === "r") { const r = document.getElementById("reply-body"); if (r) { e.preventDefault(); r.focus(); } }
  });
  // The reply box (count, templates, kept draft) is replies.js's.
})();
