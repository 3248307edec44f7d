// The destination form: show only the chosen vendor API's settings. Without this script
// every vendor's settings show under its heading, and the server reads the chosen one's.
(function () {
  "use strict";
  const form = document.querySelector("[data-destination-form]");
  const select = form && form.querySelector("select[name=adapter]");
  if (!select) return;
  const groups = form.querySelectorAll("[data-adapter-group]");
  const note = form.querySelector("[data-settings-note]");
  function show() {
    groups.forEach(function (group) {
      group.hidden = group.dataset.adapterGroup !== select.value;
    });
    if (note) note.hidden = true;
  }
  select.addEventListener("change", show);
  show();
})();
