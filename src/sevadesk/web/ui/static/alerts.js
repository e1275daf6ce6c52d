// The desk's bell on every page: polls /desk/alerts/count (cheap: the server answers from a
// per-process cache until a notification arrives), keeps the badge and the tab title's SOS
// count current, fills the panel when opened (and refreshes it while open), and rings for a
// new SOS unless the officer muted the sound (a setting kept on the server, in the panel).
(function () {
  "use strict";
  const bell = document.getElementById("bell");
  if (!bell) return;
  const badge = document.getElementById("bell-count");
  const panel = document.getElementById("bell-panel");
  const root = document.documentElement;
  const baseTitle = document.title.replace(/^\(\d+\) SOS · /, "");
  const HEARD = "seva-sos-heard";  // shared by the tabs: one ring per SOS, not one per tab
  let state = {
    unread: Number(bell.dataset.unread), sos_unread: Number(bell.dataset.sos),
    newest_sos: Number(bell.dataset.newestSos), muted: bell.dataset.muted === "1",
  };
  root.dataset.sosRings = root.dataset.sosRings || "0";

  let audio = null;
  function context() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    return audio;
  }
  // Browsers start sound only after the page was used: the first key or click unlocks it.
  ["pointerdown", "keydown"].forEach((e) => document.addEventListener(e, () => { const c = context(); if (c && c.state === "suspended") c.resume(); }, { once: true }));
  function ring() {
    root.dataset.sosRings = String(Number(root.dataset.sosRings) + 1);
    const c = context();
    if (!c) return;
    if (c.state === "suspended") c.resume();
    // Two short falling tones, like a pager: 880 Hz then 660 Hz, 0.18 s each.
    [[880, 0], [660, 0.22], [880, 0.5], [660, 0.72]].forEach(([freq, at]) => {
      const osc = c.createOscillator();
      const gain = c.createGain();
      osc.type = "square";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, c.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.15, c.currentTime + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, c.currentTime + at + 0.18);
      osc.connect(gain).connect(c.destination);
      osc.start(c.currentTime + at);
      osc.stop(c.currentTime + at + 0.2);
    });
  }

  function show() {
    badge.textContent = String(state.unread);
    badge.hidden = !state.unread;
    badge.classList.toggle("sos", state.sos_unread > 0);
    document.title = state.sos_unread ? `(${state.sos_unread}) SOS · ${baseTitle}` : baseTitle;
  }
  function maybeRing() {
    const heard = Number(localStorage.getItem(HEARD) || "0");
    if (state.newest_sos > heard) {
      localStorage.setItem(HEARD, String(state.newest_sos));
      if (!state.muted) ring();
    }
  }
  async function refreshPanel() {
    const url = "/desk/alerts?" + new URLSearchParams({ fragment: "panel", next: location.pathname + location.search });
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.ok && (response.headers.get("content-type") || "").startsWith("text/html")) panel.innerHTML = await response.text();
  }
  async function poll() {
    try {
      const response = await fetch("/desk/alerts/count", { credentials: "same-origin", cache: "no-store" });
      if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return;
      const next = await response.json();
      const changed = next.unread !== state.unread || next.newest_sos !== state.newest_sos || next.muted !== state.muted;
      state = next;
      show();
      maybeRing();
      if (changed && bell.open) await refreshPanel();
    } catch (e) { /* offline for a moment: the next poll tries again */ }
  }
  // The panel's alerts are fetched when it opens (and again while open, when they change).
  bell.addEventListener("toggle", () => { if (bell.open) refreshPanel(); });
  show();
  maybeRing();
  setInterval(poll, 2000);
})();
