// Filtering and sorting of the findings table; the charts are SVG and need no script.
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var selects = Array.prototype.slice.call(document.querySelectorAll(".controls select"));
  var text = document.getElementById("filter-text");
  var shown = document.getElementById("shown-count");

  selects.forEach(function (sel) {
    var key = sel.getAttribute("data-key");
    var values = {};
    rows.forEach(function (r) { var v = r.getAttribute("data-" + key); if (v) values[v] = (values[v] || 0) + 1; });
    Object.keys(values).sort().forEach(function (v) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = v + " (" + values[v] + ")";
      sel.appendChild(o);
    });
    sel.addEventListener("change", apply);
  });
  if (text) text.addEventListener("input", apply);

  function apply() {
    var needle = text ? text.value.trim().toLowerCase() : "";
    var n = 0;
    rows.forEach(function (r) {
      var ok = selects.every(function (sel) {
        return !sel.value || r.getAttribute("data-" + sel.getAttribute("data-key")) === sel.value;
      });
      if (ok && needle) ok = r.textContent.toLowerCase().indexOf(needle) >= 0;
      r.hidden = !ok;
      if (ok) n++;
    });
    if (shown) shown.textContent = n + " of " + rows.length + " findings shown";
  }

  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var key = function (r) {
        var c = r.cells[col];
        var s = c.getAttribute("data-sort");
        return s !== null ? Number(s) : c.textContent;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var d = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
})();
