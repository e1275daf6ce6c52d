// The staff's live page: the newest tickets of their scope (personal data masked), refreshed
// every two seconds.
// A file of its own, not an inline script: the Content-Security-Policy runs only /static.
(function () {
  "use strict";
  const seen = new Set();
  function cell(text, cls) { const td = document.createElement("td"); const s = document.createElement("span"); s.textContent = text ?? "–"; if (cls) s.className = cls; td.append(s); return td; }
  async function refresh() {
    try {
      const res = await fetch("/live/tickets.json", { cache: "no-store" });
      // The wallboard is the staff's: a session that ended sends the screen to sign in.
      if (res.status === 401) { window.location.assign("/desk/login"); return; }
      const tickets = await res.json();
      const body = document.getElementById("rows");
      body.replaceChildren(...tickets.map(t => {
        const tr = document.createElement("tr");
        tr.dataset.ref = t.ref;
        if (seen.size && !seen.has(t.ref)) tr.className = "fresh";
        tr.append(cell(t.ref, t.priority === "p1" ? "p1" : ""), cell(new Date(t.opened_at + (t.opened_at.endsWith("Z") || t.opened_at.includes("+") ? "" : "Z")).toLocaleTimeString()),
                  cell(t.unit), cell(t.kind), cell(t.category), cell(t.language), cell(t.status), cell(t.summary));
        return tr;
      }));
      tickets.forEach(t => seen.add(t.ref));
      document.getElementById("count").textContent = `${tickets.length} newest tickets · updated ${new Date().toLocaleTimeString()}`;
    } catch (e) { document.getElementById("count").textContent = "reconnecting…"; }
  }
  refresh(); setInterval(refresh, 2000);
})();
