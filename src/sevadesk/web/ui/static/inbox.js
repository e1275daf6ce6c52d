// The live inbox. The selection is a ticket (its data-ref), never a row number, so rows
// arriving or changing cannot move it. New tickets wait behind a "3 new — show" bar; a row
// already on screen is updated in place. The server pushes "changed" when a ticket in the
// officer's scope moved, with the changed rows alone.
(function () {
  "use strict";
  const body = document.querySelector("table.tickets tbody");
  if (!body) return;
  const table = body.closest("table");
  const rows = () => Array.from(body.querySelectorAll("tr[data-ref]"));
  const rowOf = (ref) => (ref ? body.querySelector('tr[data-ref="' + CSS.escape(ref) + '"]') : null);
  let selectedRef = null;

  // Selection and keys ------------------------------------------------------------------
  function paint() {
    rows().forEach((r) => {
      const on = r.dataset.ref === selectedRef;
      r.classList.toggle("selected", on);
      if (on) r.setAttribute("aria-selected", "true"); else r.removeAttribute("aria-selected");
    });
  }
  function select(ref) {
    selectedRef = ref;
    paint();
    const r = rowOf(ref);
    if (r) r.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const all = rows();
    if (!all.length) return;
    let i = all.findIndex((r) => r.dataset.ref === selectedRef);
    i = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, i + step));
    select(all[i].dataset.ref);
  }
  document.addEventListener("keydown", (e) => {
    const el = document.activeElement;
    const typing = ["TEXTAREA", "SELECT"].includes(el.tagName) || (el.tagName === "INPUT" && el.type !== "checkbox");
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j") move(1);
    else if (e.key === "k") move(-1);
    else if (e.key === "x" && selectedRef) {
      const box = rowOf(selectedRef)?.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; counted(); }
    } else if (e.key === "Enter" && selectedRef && el.tagName !== "BUTTON" && el.tagName !== "A") {
      e.preventDefault();
      window.location = "/desk/t/" + encodeURIComponent(selectedRef);
    }
  });
  body.addEventListener("click", (e) => {
    const r = e.target.closest("tr[data-ref]");
    if (r && !e.target.closest("a, button, input")) select(r.dataset.ref);
  });

  // Bulk selection ------------------------------------------------------------------------
  const all = document.getElementById("select-all");
  const count = document.getElementById("bulk-count");
  const boxes = () => Array.from(body.querySelectorAll("input[type=checkbox][name=ref]"));
  function counted() {
    const picked = boxes().filter((b) => b.checked).length;
    if (count) count.textContent = count.dataset.text.replace("{n}", picked);
    if (all) { all.checked = picked > 0 && picked === boxes().length; all.indeterminate = picked > 0 && picked < boxes().length; }
  }
  if (all) all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); counted(); });
  body.addEventListener("change", (e) => { if (e.target.matches("input[type=checkbox]")) counted(); });
  const action = document.getElementById("bulk-action");
  function fields() {
    if (!action) return;
    document.querySelectorAll("#bulk [data-for]").forEach((f) => {
      const show = f.dataset.for.split(" ").includes(action.value);
      f.hidden = !show;
      f.disabled = !show;
    });
  }
  if (action) { action.addEventListener("change", fields); fields(); }
  counted();

  // Countdowns (the words mirror web/ui/deadlines.py) ------------------------------------
  const [uD, uH, uM] = (table.dataset.units || "d|h|min").split("|");
  function span(ms) {
    let m = Math.floor(Math.abs(ms) / 60000);
    if (m < 60) return m + " " + uM;
    let h = Math.floor(m / 60); m %= 60;
    if (h < 24) return h + " " + uH + (m ? " " + m + " " + uM : "");
    const d = Math.floor(h / 24); h %= 24;
    return d + " " + uD + (h ? " " + h + " " + uH : "");
  }
  function tick() {
    const now = Date.now();
    rows().forEach((r) => {
      if (!r.dataset.due || r.dataset.paused) return;
      const left = Number(r.dataset.due) - now;
      const cell = r.querySelector("td.due");
      const text = cell && cell.querySelector(".countdown");
      if (!text) return;
      text.textContent = (left < 0 ? table.dataset.over : table.dataset.in).replace("{d}", span(left));
      cell.classList.toggle("due-over", left < 0);
      cell.classList.toggle("due-soon", left >= 0 && left < 30 * 60000);
      cell.classList.toggle("due-ok", left >= 30 * 60000);
    });
  }
  setInterval(tick, 30000);

  // Live rows ---------------------------------------------------------------------------
  if (!window.EventSource) return;
  const bar = document.getElementById("new-bar");
  const barText = document.getElementById("new-text");
  const show = document.getElementById("new-show");
  const status = document.getElementById("live-status");
  const pending = new Map(); // ref -> {id, html}
  let reload = false;

  function fromHtml(html) {
    const t = document.createElement("tbody");
    t.innerHTML = html.trim();
    return t.querySelector("tr");
  }
  function replaceRow(old, html) {
    const row = fromHtml(html);
    const box = old.querySelector("input[type=checkbox]");
    const nbox = row.querySelector("input[type=checkbox]");
    if (box && nbox) nbox.checked = box.checked;
    row.classList.add("changed");
    old.replaceWith(row);
  }
  function updateBar() {
    if (!bar) return;
    if (reload) { barText.textContent = barText.dataset.many; show.textContent = show.dataset.reload; bar.hidden = false; return; }
    barText.textContent = barText.dataset.new.replace("{n}", pending.size);
    show.textContent = show.dataset.show;
    bar.hidden = pending.size === 0;
  }
  function take(d) {
    if (d.reload) { reload = true; updateBar(); return; }
    const matching = new Set();
    d.rows.forEach((r) => {
      matching.add(r.ref);
      const old = rowOf(r.ref);
      if (old) replaceRow(old, r.html); // in place: status, assignee, deadline
      else pending.set(r.ref, r); // new here: waits behind the bar
    });
    d.changed.forEach((ref) => {
      if (matching.has(ref)) return;
      pending.delete(ref);
      const old = rowOf(ref);
      if (old) old.classList.add("stale"); // no longer in this view; leaves when the bar is applied
    });
    if (!rows().length && pending.size) { apply(); return; } // an empty list: nothing can move
    paint();
    updateBar();
  }
  function keyOf(row) {
    const sort = table.dataset.sort;
    if (sort === "due") return Number(row.dataset.due || Infinity);
    if (sort === "oldest") return Number(row.dataset.id);
    return -Number(row.dataset.id); // newest first (and priority: new rows on top)
  }
  function apply() {
    if (reload) { window.location.reload(); return; }
    const anchor = rowOf(selectedRef);
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    body.querySelectorAll("tr.stale, tr.empty").forEach((r) => { if (r.dataset.ref !== selectedRef) r.remove(); });
    Array.from(pending.values())
      .sort((a, b) => b.id - a.id)
      .forEach((p) => {
        const row = fromHtml(p.html);
        row.classList.add("fresh");
        const k = keyOf(row);
        const after = rows().find((r) => keyOf(r) > k);
        if (after) body.insertBefore(row, after);
        else body.append(row);
      });
    pending.clear();
    if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - before); // the selected ticket stays put
    paint();
    counted();
    updateBar();
  }
  if (show) show.addEventListener("click", apply);
  // The stream carries the changed rows; it starts from this page's marker (and, after a
  // reconnect, from the last event the browser saw: Last-Event-ID).
  const url = new URL("/desk/events", window.location.href);
  new URLSearchParams(window.location.search).forEach((v, k) => { if (k !== "cursor" && k !== "bulk") url.searchParams.set(k, v); });
  url.searchParams.set("since", body.dataset.mark);
  const source = new EventSource(url);
  source.addEventListener("open", () => { if (status) status.textContent = status.dataset.on; });
  source.addEventListener("rows", (e) => { try { take(JSON.parse(e.data)); } catch (err) { /* a bad event: the next one carries on */ } });
  source.addEventListener("signed_out", () => { source.close(); window.location.reload(); });
})();
