// The warehouse form: show only the chosen kind's connection details. Without this script
// every kind's details show under its heading, and the server reads the chosen kind's.
(function () {
  "use strict";
  const form = document.querySelector("[data-warehouse-form]");
  const select = form && form.querySelector("select[name=kind]");
  if (!select) return;
  const groups = form.querySelectorAll("[data-kind-group]");
  const note = form.querySelector("[data-credentials-note]");
  function show() {
    groups.forEach(function (group) {
      group.hidden = group.dataset.kindGroup !== select.value;
    });
    if (note) note.hidden = true;
  }
  select.addEventListener("change", show);
  show();
})();
