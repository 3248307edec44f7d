/* Deliveries per hour by outcome, last 24 hours. */
(function () {
  "use strict";
  const data = document.getElementById("delivery-chart-data");
  const canvas = document.getElementById("delivery-chart");
  if (!data || !canvas || !window.Chart) return;
  const chart = JSON.parse(data.textContent);
  const palette = ["#2fb344", "#f76707", "#d63939"];
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
})();
