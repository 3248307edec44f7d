/* MarTech Console page behaviour: the command palette, confirmations, copy buttons and
   small status probes. No inline script is allowed by the Content Security Policy. */
(function () {
  "use strict";

  // --- Command palette (Ctrl/Cmd+K) -------------------------------------------------
  const paletteEl = document.getElementById("command-palette");
  if (paletteEl && window.tabler) {
    const modal = new window.tabler.Modal(paletteEl);
    const input = document.getElementById("palette-input");
    const list = document.getElementById("palette-results");
    const empty = document.getElementById("palette-empty");
    const url = paletteEl.dataset.paletteUrl;
    let active = -1;
    let timer = null;
    let lastQuery = null;
    let controller = null;

    const items = () => Array.from(list.querySelectorAll("[role=option]"));

    function highlight(index) {
      const all = items();
      if (!all.length) { active = -1; return; }
      active = (index + all.length) % all.length;
      all.forEach((el, i) => {
        el.classList.toggle("active", i === active);
        el.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      all[active].scrollIntoView({ block: "nearest" });
    }

    function render(results) {
      list.replaceChildren();
      results.forEach((r, i) => {
        const a = document.createElement("a");
        a.href = r.url;
        a.className = "list-group-item list-group-item-action";
        a.setAttribute("role", "option");
        a.id = "palette-option-" + i;
        const title = document.createElement("span");
        title.textContent = r.title;
        a.appendChild(title);
        if (r.subtitle) {
          const sub = document.createElement("span");
          sub.className = "text-secondary small";
          sub.textContent = r.subtitle;
          a.appendChild(sub);
        }
        const kind = document.createElement("span");
        kind.className = "badge bg-secondary-lt console-palette-kind";
        kind.textContent = r.kind;
        a.appendChild(kind);
        list.appendChild(a);
      });
      empty.classList.toggle("d-none", results.length > 0);
      highlight(0);
    }

    function search(query) {
      if (query === lastQuery) return;
      lastQuery = query;
      if (controller) controller.abort();
      controller = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      })
        .then((r) => (r.ok ? r.json() : { results: [] }))
        .then((data) => render(data.results || []))
        .catch(() => {});
    }

    function open() {
      modal.show();
    }

    paletteEl.addEventListener("shown.bs.modal", () => {
      input.focus();
      input.select();
      lastQuery = null;
      search(input.value);
    });

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => search(input.value), 120);
    });

    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
      else if (e.key === "Enter") {
        e.preventDefault();
        const target = items()[active];
        if (target) window.location.assign(target.href);
      }
    });

    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        open();
      }
    });
    document.querySelectorAll("[data-palette-open]").forEach((el) =>
      el.addEventListener("click", open)
    );
  }

  // --- Confirm before destructive form posts ------------------------------------------
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  });

  // --- Copy buttons ------------------------------------------------------------------------
  document.querySelectorAll("[data-copy-target]").forEach((button) => {
    button.addEventListener("click", () => {
      const field = document.querySelector(button.dataset.copyTarget);
      if (!field) return;
      field.select();
      const done = () => { button.textContent = "Copied"; };
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, done);
    });
  });

  // --- Readiness probe on the dashboard --------------------------------------------------
  document.body.addEventListener("htmx:afterRequest", (e) => {
    const el = e.detail.elt;
    if (!el || !el.dataset || !el.dataset.statusTarget) return;
    const target = document.querySelector(el.dataset.statusTarget);
    let body = {};
    try { body = JSON.parse(e.detail.xhr.responseText); } catch (_) { /* not JSON */ }
    const ok = e.detail.xhr.status === 200;
    const dot = document.createElement("span");
    dot.className = "status-dot me-2 " + (ok ? "status-green" : "status-red");
    target.replaceChildren(dot, document.createTextNode(ok ? "All systems ready" : (body.message || "Not ready")));
  });
})();
