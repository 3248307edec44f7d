/* The redundancy chart: overlapping tools (and, in one currency, their cost) per capability. */
(function () {
  "use strict";
  const data = document.getElementById("redundancy-chart-data");
  const canvas = document.getElementById("redundancy-chart");
  if (!data || !canvas || !window.Chart) return;
  const series = JSON.parse(data.textContent);
  const style = getComputedStyle(document.body);
  const primary = style.getPropertyValue("--tblr-primary").trim() || "#206bc4";
  const orange = style.getPropertyValue("--tblr-orange").trim() || "#f76707";
  const datasets = [
    { label: "Tools", data: series.tools, backgroundColor: primary, borderRadius: 4, yAxisID: "y" },
  ];
  const scales = {
    y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Tools" } },
  };
  if (series.cost.length) {
    datasets.push({
      label: "Annual cost (" + series.currency + ")",
      data: series.cost,
      backgroundColor: orange,
      borderRadius: 4,
      yAxisID: "cost",
    });
    scales.cost = { beginAtZero: true, position: "right", grid: { display: false } };
  }
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: series.labels, datasets: datasets },
    options: { maintainAspectRatio: false, scales: scales },
  });
})();
