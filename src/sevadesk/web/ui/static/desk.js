// The desk's small script: live inbox over server-sent events and keyboard moves (the reply
// box is replies.js's).
(function () {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("table.tickets tbody tr[data-ref]"));
  let selected = -1;
  function select(i) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, j) => r.classList.toggle("selected", j === selected));
    all[selected].scrollIntoView({ block: "nearest" });
  }
  const body = document.querySelector("table.tickets tbody");
  if (body && window.EventSource) {
    const known = new Set(rows().map((r) => r.dataset.ref + r.dataset.status));
    const status = document.getElementById("live-status");
    const source = new EventSource("/desk/events");
    source.addEventListener("open", () => { if (status) status.textContent = status.dataset.on; });
    source.addEventListener("changed", async () => {
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      body.innerHTML = await response.text();
      rows().forEach((r) => { if (!known.has(r.dataset.ref + r.dataset.status)) r.classList.add("fresh"); known.add(r.dataset.ref + r.dataset.status); });
      if (selected >= 0) select(selected);
    });
  }
  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing) { if (e.key === "Escape") document.activeElement.blur(); return; }
    if (e.key === "j") select(selected + 1);
    else if (e.key === "k") select(selected - 1);
    else if (e.key === "Enter" && selected >= 0) window.location = "/desk/t/" + rows()[selected].dataset.ref;
    else if (e.key === "/") { const q = document.getElementById("q"); if (q) { e.preventDefault(); q.focus(); } }
    else if (e.key === "r") { const r = document.getElementById("reply-body"); if (r) { e.preventDefault(); r.focus(); } }
  });
  // The reply box (count, templates, kept draft) is replies.js's.
})();
