/* Draws the report's charts with Chart.js, each from its canvas's data-chart attribute (its
   type, data and options as JSON); the table after each chart gives the same figures.
   Marks each drawn canvas data-drawn="true". */
"use strict";
(function () {
  if (typeof Chart === "undefined") {
    return;
  }
  var drawn = [];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
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
