/* Stacked bar charts: each <canvas data-chart="ID"> reads {labels, series} from the JSON
   script element ID (deliveries per hour by outcome, rows per sync run by outcome). */
(function () {
  "use strict";
  if (!window.Chart) return;
  const palette = ["#2fb344", "#f76707", "#d63939"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const data = document.getElementById(canvas.dataset.chart);
    if (!data) return;
    const chart = JSON.parse(data.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map(function (s, i) {
          return { label: s.label, data: s.data, backgroundColor: s.color || palette[i % palette.length], borderRadius: 3 };
        }),
      },
      options: {
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  });
})();
