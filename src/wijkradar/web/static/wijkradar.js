// wijkradar: draw the Plotly figures embedded in the page and make tables sortable by keyboard or mouse.
(function () {
  "use strict";

  // Maps are drawn from the warehouse's own shapes; Plotly's geo maps would otherwise fetch a world
  // base map from its CDN. An empty one, here, keeps every request on this server.
  function emptyBaseMaps() {
    var empty = {type: "Topology", arcs: [], objects: {}};
    ["land", "ocean", "lakes", "rivers", "countries", "subunits", "coastlines"].forEach(function (name) {
      empty.objects[name] = {type: "GeometryCollection", geometries: []};
    });
    window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
    window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};
    ["world_110m", "world_50m"].forEach(function (name) { window.PlotlyGeoAssets.topojson[name] = empty; });
  }

  function drawPlots() {
    if (!window.Plotly) { return; }
    emptyBaseMaps();
    document.querySelectorAll("script[data-plot]").forEach(function (node) {
      var target = document.getElementById(node.getAttribute("data-plot"));
      if (!target) { return; }
      var spec = JSON.parse(node.textContent);
      window.Plotly.newPlot(target, spec.data, spec.layout, spec.config).then(function () {
        target.setAttribute("data-rendered", "true");
      });
    });
  }

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (numeric) { var n = parseFloat(raw); return isNaN(n) ? -Infinity : n; }
    return raw.toLowerCase();
  }

  function makeSortable(table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "number";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          if (x < y) { return ascending ? -1 : 1; }
          if (x > y) { return ascending ? 1 : -1; }
          return 0;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    drawPlots();
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    var problem = document.getElementById("foutmelding");  // a refused form: say why first
    if (problem) { problem.focus(); }
  });
}());
