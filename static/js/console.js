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
      if (!all.length) { active = -1; input.removeAttribute("aria-activedescendant"); return; }
      active = (index + all.length) % all.length;
      all.forEach((el, i) => {
        el.classList.toggle("active", i === active);
        el.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      all[active].scrollIntoView({ block: "nearest" });
      input.setAttribute("aria-activedescendant", all[active].id);
    }

    // Results come in groups, "Go to" (pages and objects) and "Actions" (links to the
    // form or confirmation that does it); the arrows and Enter move through all of them.
    function render(results) {
      list.replaceChildren();
      const groups = new Map();
      results.forEach((r, i) => {
        const name = r.group || "Go to";
        if (!groups.has(name)) {
          const group = document.createElement("div");
          group.setAttribute("role", "group");
          group.id = "palette-group-" + groups.size;
          const header = document.createElement("div");
          header.className = "console-palette-group";
          header.id = group.id + "-label";
          header.textContent = name;
          group.setAttribute("aria-labelledby", header.id);
          group.appendChild(header);
          list.appendChild(group);
          groups.set(name, group);
        }
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
          sub.className = "text-secondary small text-truncate";
          sub.textContent = r.subtitle;
          a.appendChild(sub);
        }
        const kind = document.createElement("span");
        kind.className = "badge console-palette-kind " + (name === "Go to" ? "bg-secondary-lt" : "bg-blue-lt");
        kind.textContent = r.kind;
        a.appendChild(kind);
        groups.get(name).appendChild(a);
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

  // --- Consequential actions: the server says what will happen, asked once -------------
  // A form marked data-confirm is first posted with "X-Console-Confirm: ask": the server
  // changes nothing and answers what the action would do. A dialog shows that; its button
  // posts the form with confirmed=1. Without a dialog (no JavaScript, no answer) the plain
  // post gets the server's confirmation page instead, so the question is asked once.
  let confirmModal = null;

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function post(form, submitter, confirmed) {
    const added = [];
    const add = (name, value) => {
      const input = element("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
      added.push(input);
    };
    if (submitter && submitter.name) add(submitter.name, submitter.value);
    if (confirmed) add("confirmed", "1");
    form.submit();  // builds the form data now; no submit event, so no second question
    added.forEach((input) => input.remove());
  }

  function ask(form, submitter, answer) {
    if (!confirmModal) {
      const root = element("div", "modal modal-blur fade");
      root.id = "confirm-dialog";
      root.tabIndex = -1;
      root.setAttribute("role", "dialog");
      root.setAttribute("aria-modal", "true");
      root.setAttribute("aria-labelledby", "confirm-dialog-title");
      const dialog = element("div", "modal-dialog modal-dialog-centered");
      const content = element("div", "modal-content");
      const body = element("div", "modal-body");
      const title = element("h3", "modal-title mb-2");
      title.id = "confirm-dialog-title";
      const lines = element("ul", "mb-0");
      lines.dataset.testid = "consequence";
      const final = element("div", "alert alert-danger mt-3 mb-0", "This cannot be undone.");
      final.setAttribute("role", "alert");
      body.append(title, lines, final);
      const footer = element("div", "modal-footer");
      const cancel = element("button", "btn btn-link link-secondary me-auto", "Cancel");
      cancel.type = "button";
      cancel.setAttribute("data-bs-dismiss", "modal");
      const go = element("button", "btn");
      go.type = "button";
      footer.append(cancel, go);
      content.append(body, footer);
      dialog.appendChild(content);
      root.appendChild(dialog);
      document.body.appendChild(root);
      confirmModal = { root, title, lines, final, go, modal: new window.tabler.Modal(root) };
      root.addEventListener("shown.bs.modal", () => go.focus());
      go.addEventListener("click", () => {
        go.disabled = true;
        const pending = confirmModal.pending;
        confirmModal.pending = null;
        if (pending) post(pending.form, pending.submitter, true);
      });
    }
    const m = confirmModal;
    m.pending = { form, submitter };
    m.title.textContent = answer.title;
    m.lines.replaceChildren(...(answer.lines || []).map((line) => element("li", "", line)));
    m.final.classList.toggle("d-none", !answer.final);
    m.go.textContent = answer.button || "Confirm";
    m.go.className = "btn " + (answer.danger ? "btn-danger" : "btn-primary");
    m.go.disabled = false;
    m.modal.show();
  }

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.tabler || !window.fetch) return;  // the server's confirmation page asks
    e.preventDefault();
    const submitter = e.submitter || null;
    const body = new FormData(form);
    if (submitter && submitter.name) body.append(submitter.name, submitter.value);
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: body,
      headers: { "X-Console-Confirm": "ask", Accept: "application/json" },
      credentials: "same-origin",
    })
      .then((r) => (r.ok ? r.json() : null))
      .then((answer) => {
        if (answer && answer.confirm) ask(form, submitter, answer);
        else post(form, submitter, false);  // nothing to confirm, or an error the page shows
      })
      .catch(() => post(form, submitter, false));
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

// --- Print buttons: a button marked data-print prints the page (the CSP allows no inline script)
document.querySelectorAll("[data-print]").forEach((button) =>
  button.addEventListener("click", () => window.print()));
