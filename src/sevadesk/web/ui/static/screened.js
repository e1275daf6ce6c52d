// The Screened out queue's keys: j/k move, t makes a ticket of the selected post, n confirms
// it as noise, w types a why first (Enter in the why box makes the ticket).
(function () {
  "use strict";
  const rows = () => Array.from(document.querySelectorAll("table.screened tbody tr[data-post]"));
  let selected = -1;
  function select(i) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, j) => r.classList.toggle("selected", j === selected));
    all[selected].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing) { if (e.key === "Escape") document.activeElement.blur(); return; }
    const row = rows()[selected];
    if (e.key === "j") select(selected + 1);
    else if (e.key === "k") select(selected - 1);
    else if (row && e.key === "t") { e.preventDefault(); row.querySelector("button.make").click(); }
    else if (row && e.key === "n") { e.preventDefault(); row.querySelector("button.noise").click(); }
    else if (row && e.key === "w") { e.preventDefault(); row.querySelector("input[name=note]").focus(); }
  });
  if (rows().length) select(0);
})();
