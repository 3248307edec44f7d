/* The attribution chart: profiles by first touch and by last touch, side by side. */
(function () {
  "use strict";
  const data = document.getElementById("attribution-chart-data");
  const canvas = document.getElementById("attribution-chart");
  if (!data || !canvas || !window.Chart) return;
  const chart = JSON.parse(data.textContent);
  const style = getComputedStyle(document.body);
  const primary = style.getPropertyValue("--tblr-primary").trim() || "#206bc4";
  const orange = style.getPropertyValue("--tblr-orange").trim() || "#f76707";
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: [
        { label: "First touch", data: chart.first, backgroundColor: primary, borderRadius: 3 },
        { label: "Last touch", data: chart.last, backgroundColor: orange, borderRadius: 3 },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
