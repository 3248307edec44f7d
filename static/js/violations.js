/* The drift chart: schema violations per day, stacked by kind. */
(function () {
  "use strict";
  const data = document.getElementById("violations-chart-data");
  const canvas = document.getElementById("violations-chart");
  if (!data || !canvas || !window.Chart) return;
  const chart = JSON.parse(data.textContent);
  const palette = ["#d63939", "#f76707", "#f59f00", "#ae3ec9", "#4263eb"];
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: chart.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length], borderRadius: 3 };
      }),
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
