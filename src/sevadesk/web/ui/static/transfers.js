// The transfer picker: typing in the search box narrows the office list to the offices
// whose name or code contains the words typed and chooses the first of them; arrow keys
// move through the matches, Enter goes on to the reason. Without this script the page has
// the plain list (the search box stays hidden) and the officer must still choose.
(function () {
  "use strict";
  var form = document.querySelector("form.transfer-picker");
  if (!form) return;
  var box = form.querySelector(".picker-search");
  var search = document.getElementById("unit-search");
  var select = document.getElementById("unit");
  var said = document.getElementById("unit-matches");
  var reason = document.getElementById("transfer-reason");
  if (!box || !search || !select) return;
  box.hidden = false;
  var options = Array.prototype.slice.call(select.querySelectorAll("option[data-search]"));

  function visible() {
    return options.filter(function (o) { return !o.hidden; });
  }

  function tell(n) {
    if (!said) return;
    if (!search.value.trim()) { said.textContent = ""; return; }
    var text = n === 0 ? said.dataset.none : n === 1 ? said.dataset.one : said.dataset.many;
    said.textContent = (text || "").replace("{n}", String(n));
  }

  function narrow() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var first = null;
    var count = 0;
    options.forEach(function (o) {
      var hay = o.dataset.search || "";
      var hit = words.every(function (w) { return hay.indexOf(w) !== -1; });
      o.hidden = !hit;
      o.disabled = !hit;
      if (hit) { count += 1; if (!first) first = o; }
    });
    var groups = 0;
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (g) {
      g.hidden = !g.querySelector("option:not([hidden])");
      if (!g.hidden) groups += 1;
    });
    select.value = words.length && first ? first.value : "";
    // While searching, the matches show as a list (arrow keys or a click choose); with the
    // box empty the list folds back to one line.
    select.size = words.length ? Math.max(3, Math.min(10, count + groups + 1)) : 0;
    tell(words.length ? count : -1);
  }

  function step(by) {
    var shown = visible();
    if (!shown.length) return;
    var at = shown.findIndex(function (o) { return o.value === select.value; });
    var next = Math.max(0, Math.min(shown.length - 1, at + by));
    select.value = shown[next].value;
  }

  search.addEventListener("input", narrow);
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { ev.preventDefault(); step(1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); step(-1); }
    else if (ev.key === "Enter") {
      // Enter chooses, it does not send: the reason is still to be written.
      ev.preventDefault();
      if (select.value && reason) reason.focus();
    } else if (ev.key === "Escape") {
      search.value = "";
      narrow();
    }
  });
})();
