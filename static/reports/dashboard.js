/* Statistics dashboard charts (Apache ECharts). Data from the page's json_script; no inline script. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var L = data.labels;
  var charts = [];
  var palette = ["#c8102e", "#1f6fb2", "#e39b00", "#2e8b57", "#7b4fa0", "#5a6270", "#d2691e", "#008b8b", "#b03060", "#4682b4"];

  function draw(name, option) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    if (!el) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    option.color = palette;
    option.animation = false;
    // Canvas tooltips: HTML tooltips would carry inline styles the CSP refuses.
    option.tooltip = Object.assign({ renderMode: "richText", trigger: "axis" }, option.tooltip || {});
    chart.setOption(option);
    charts.push(chart);
  }

  function pairs(rows) {
    return { names: rows.map(function (r) { return r.label; }), values: rows.map(function (r) { return r.count; }) };
  }

  function bars(name, rows, horizontal) {
    if (!rows || !rows.length) { return; }
    var p = pairs(rows);
    var cat = { type: "category", data: p.names, axisLabel: { interval: 0, width: 90, overflow: "truncate" } };
    var val = { type: "value", minInterval: 1 };
    draw(name, {
      grid: { left: horizontal ? 110 : 40, right: 20, top: 20, bottom: horizontal ? 20 : 60, containLabel: false },
      xAxis: horizontal ? val : Object.assign(cat, { axisLabel: { interval: 0, rotate: 30 } }),
      yAxis: horizontal ? cat : val,
      series: [{ type: "bar", data: p.values, barMaxWidth: 28 }]
    });
  }

  function pie(name, rows) {
    if (!rows || !rows.length) { return; }
    draw(name, {
      tooltip: { trigger: "item" },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
        data: rows.map(function (r) { return { name: r.label, value: r.count }; }),
        label: { formatter: "{b}: {c}" }
      }]
    });
  }

  if (data.trend && data.trend.length) {
    draw("trend", {
      legend: { top: 0 },
      grid: { left: 60, right: 60, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.trend.map(function (t) { return t.month.slice(0, 7); }) },
      yAxis: [{ type: "value", name: L.members, minInterval: 1 }, { type: "value", name: L.new, minInterval: 1 }],
      series: [
        { name: L.members, type: "line", data: data.trend.map(function (t) { return t.members; }) },
        { name: L.new, type: "bar", yAxisIndex: 1, data: data.trend.map(function (t) { return t.new; }) },
        { name: L.left, type: "bar", yAxisIndex: 1, data: data.trend.map(function (t) { return t.left; }) },
        { name: L.cases, type: "bar", yAxisIndex: 1, data: data.trend.map(function (t) { return t.cases_received; }) }
      ]
    });
  }
  if (data.compare && data.compare.before) {
    draw("compare", {
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.compare.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: data.compare.before_label, type: "bar", data: data.compare.before, barMaxWidth: 28 },
        { name: data.compare.now_label, type: "bar", data: data.compare.now, barMaxWidth: 28 }
      ]
    });
  }
  pie("forms", data.forms);
  bars("tiers", data.tiers, true);
  bars("kinds", data.kinds, true);
  pie("outcomes", data.outcomes);
  bars("stages", data.stages, true);
  if (data.children && data.children.length) {
    var kids = data.children.slice(0, 40);
    draw("children", {
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 90 },
      xAxis: { type: "category", data: kids.map(function (c) { return c.name; }), axisLabel: { interval: 0, rotate: 40, width: 110, overflow: "truncate" } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: L.members, type: "bar", data: kids.map(function (c) { return c.members; }), barMaxWidth: 24 }]
    });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  var printButton = document.querySelector("[data-print]");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
})();
