/* The overview's activity chart. Data comes from a JSON script block (no inline code). */
(function () {
  "use strict";
  const data = document.getElementById("activity-chart-data");
  const canvas = document.getElementById("activity-chart");
  if (!data || !canvas || !window.Chart) return;
  const series = JSON.parse(data.textContent);
  const style = getComputedStyle(document.body);
  const primary = style.getPropertyValue("--tblr-primary").trim() || "#206bc4";
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [{ label: "Changes", data: series.values, backgroundColor: primary, borderRadius: 4 }],
    },
    options: {
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } },
    },
  });
})();
