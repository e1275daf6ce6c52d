// The reply box: the length as the ticket's channel counts it (asked of the server, which
// uses the same numbers when the reply is sent), templates inserted without losing what was
// typed, and the draft kept in this tab's sessionStorage so a reload, a network error or a
// refused reply never loses it. Cleared only once the desk says the reply was queued.
(function () {
  "use strict";
  const form = document.getElementById("reply-form");
  if (!form) return;
  const storeKey = "seva-draft:" + form.dataset.draft;
  const fields = Array.from(form.querySelectorAll("textarea[name]"));
  const saved = document.getElementById("draft-saved");
  let store = null;
  try { store = window.sessionStorage; } catch (e) { store = null; }

  if (store) {
    if (form.dataset.sent) {
      store.removeItem(storeKey);
    } else {
      let kept = {};
      try { kept = JSON.parse(store.getItem(storeKey) || "{}"); } catch (e) { kept = {}; }
      // What the server sent back (a refused reply's draft) wins over the tab's copy.
      fields.forEach((f) => { if (!f.value && kept[f.name]) f.value = kept[f.name]; });
    }
  }
  const keep = () => {
    if (!store) return;
    const draft = {};
    fields.forEach((f) => { if (f.value) draft[f.name] = f.value; });
    try {
      if (Object.keys(draft).length) store.setItem(storeKey, JSON.stringify(draft));
      else store.removeItem(storeKey);
      if (saved) saved.hidden = !Object.keys(draft).length;
    } catch (e) { /* storage full or refused: the server still returns a refused draft */ }
  };
  fields.forEach((f) => f.addEventListener("input", keep));

  const reply = form.querySelector("textarea[name=body]");
  const counter = document.getElementById("reply-count");
  if (reply && counter) {
    let timer = null;
    const update = () => {
      const query = new URLSearchParams({ text: reply.value, channel: counter.dataset.channel || "x" });
      fetch("/desk/count?" + query, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((d) => {
          counter.textContent = d.weighted + " / " + d.limit;
          counter.classList.toggle("over", d.weighted > d.limit);
        })
        .catch(() => { /* offline: the server checks the length when the reply is sent */ });
    };
    reply.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 150); });
    update();
  }

  const picker = document.getElementById("template-picker");
  if (picker && reply) {
    picker.addEventListener("change", () => {
      if (!picker.value) return;
      // Into an empty box as it is; after what was typed, on a new line: never over it.
      reply.value = reply.value.trim() ? reply.value.replace(/\s+$/, "") + "\n" + picker.value : picker.value;
      picker.value = "";
      reply.focus();
      reply.dispatchEvent(new Event("input"));
    });
  }
})();
