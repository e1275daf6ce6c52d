// The desk's small script: live inbox over server-sent events, keyboard moves, and the
// reply box's weighted character count (asked of the server, which uses twitter-text).
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
