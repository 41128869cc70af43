/* Draws the report's charts with Chart.js from the JSON block #report-charts; each chart's
   figures are also in the table that follows it. Marks each drawn canvas data-drawn="true". */
"use strict";
(function () {
  var source = document.getElementById("report-charts");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var specs = JSON.parse(source.textContent);
  var drawn = [];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = specs[canvas.getAttribute("data-chart")];
    if (!spec) {
      return;
    }
    var options = Object.assign(
      { animation: false, responsive: true, maintainAspectRatio: false },
      spec.options
    );
    drawn.push(new Chart(canvas, { type: spec.type, data: spec.data, options: options }));
    canvas.setAttribute("data-drawn", "true");
  });
  /* Printed pages are narrower than the screen: redraw at their size. */
  window.addEventListener("beforeprint", function () {
    drawn.forEach(function (chart) { chart.resize(); });
  });
  window.addEventListener("afterprint", function () {
    drawn.forEach(function (chart) { chart.resize(); });
  });
})();
