// Who else has this ticket open: a heartbeat every 10 s ("viewing", or "replying" while the
// reply box has fresh typing); the answer names the others, shown above the ticket.
(function () {
  "use strict";
  const box = document.getElementById("presence");
  if (!box) return;
  const reply = document.getElementById("reply-body");
  let typedAt = 0;
  if (reply) reply.addEventListener("input", () => { const first = Date.now() - typedAt > 15000; typedAt = Date.now(); if (first) beat(); });
  const url = "/desk/presence/" + encodeURIComponent(box.dataset.ref);
  function form(state) { return new URLSearchParams({ csrf: box.dataset.csrf, state: state }); }
  async function beat() {
    const state = Date.now() - typedAt < 15000 ? "replying" : "viewing";
    try {
      const response = await fetch(url, { method: "POST", body: form(state), credentials: "same-origin" });
      if (!response.ok) return;
      const d = await response.json();
      const lines = d.others.map((o) => (o.state === "replying" ? box.dataset.replying : box.dataset.viewing).replace("{who}", o.name + " (" + o.unit + ")"));
      box.textContent = lines.join(" · ");
      box.hidden = lines.length === 0;
      box.classList.toggle("replying", d.others.some((o) => o.state === "replying"));
    } catch (e) { /* the next beat tries again */ }
  }
  beat();
  setInterval(beat, 10000);
  window.addEventListener("pagehide", () => { navigator.sendBeacon(url, form("left")); });
})();
