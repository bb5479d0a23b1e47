// nuage explorer: search as you type, and task statuses live over server-sent events.
"use strict";

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // -- the DApp Store's search: hides the cards that do not match, as you type
  const search = $('[data-testid="app-search"]');
  if (search) {
    const empty = $('[data-testid="app-empty"]');
    const filter = () => {
      const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const card of $$('[data-testid="app-card"]')) {
        const text = card.dataset.search || "";
        const match = words.every((word) => text.includes(word));
        card.hidden = !match;
        if (match) shown += 1;
      }
      if (empty) empty.hidden = shown > 0;
    };
    search.addEventListener("input", filter);
    search.form && search.form.addEventListener("submit", (event) => {
      // the server filters too (?q=), but typing already did: keep the URL shareable
      history.replaceState(null, "", search.value ? "/?q=" + encodeURIComponent(search.value) : "/");
      event.preventDefault();
    });
    if (search.value) filter();
  }

  // -- live tasks
  const live = document.body.dataset.live;
  if (!live || !window.EventSource) return;
  const pageTask = document.body.dataset.taskId;

  const setStatus = (element, status) => {
    if (!element || element.textContent === status) return;
    element.textContent = status;
    element.className = "status s-" + status.toLowerCase();
  };

  const short = (text) => (text ? text.slice(0, 10) + "…" : "-");
  const cell = (row, html) => {
    const td = document.createElement("td");
    td.innerHTML = html;
    row.appendChild(td);
  };
  const escape = (text) => String(text == null ? "" : text).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  const addRow = (task) => {
    const body = $("#task-rows");
    if (!body) return;
    const row = document.createElement("tr");
    row.dataset.testid = "task-row";
    row.setAttribute("data-testid", "task-row");
    row.dataset.taskId = task.task_id;
    cell(row, '<a class="mono" href="/tasks/' + escape(task.task_id) + '">' + escape(short(task.task_id)) + "</a>");
    cell(row, '<a href="/apps/' + escape(task.app) + '">' + escape(short(task.app)) + "</a>");
    cell(row, '<a class="mono" href="/deals/' + escape(task.deal_id) + '">' + escape(short(task.deal_id)) + "</a> #" + escape(task.index));
    cell(row, '<span class="status" data-testid="task-status"></span>');
    cell(row, '<span class="muted">just now</span>');
    body.insertBefore(row, body.firstChild);
    setStatus($('[data-testid="task-status"]', row), task.status);
    const empty = $("#tasks-empty");
    if (empty) empty.hidden = true;
  };

  // the task page: everything that changes, from the API
  const refreshTask = () => {
    fetch("/api/tasks/" + pageTask, { headers: { accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((task) => {
        if (!task) return;
        setStatus($('[data-testid="task-status"]'), task.status);
        const download = $('[data-testid="task-result-download"]');
        if (download) download.hidden = task.status !== "COMPLETED";
        const consensus = $('[data-testid="task-consensus"]');
        if (consensus && task.consensus) consensus.textContent = task.consensus;
        const digest = $("#task-digest");
        if (digest && task.result_digest) digest.textContent = task.result_digest;
        const rows = $("#contribution-rows");
        if (rows && task.contributions.length) {
          rows.innerHTML = task.contributions.map((c) =>
            '<tr><td class="mono"><a href="/accounts/' + escape(c.worker) + '">' + escape(c.worker_short) +
            "</a></td><td>" + escape(c.status) + "</td><td>" + escape(c.verdict || "-") +
            '</td><td class="mono">' + escape((c.result_hash || c.result_digest || "-").slice(0, 18)) +
            "</td><td>" + escape(c.block) + "</td></tr>").join("");
        }
      })
      .catch(() => {});
  };

  const onTask = (task) => {
    if (live === "task") {
      if (task.task_id === pageTask) refreshTask();
      return;
    }
    const rows = $$('[data-testid="task-row"]').filter((row) => row.dataset.taskId === task.task_id);
    if (rows.length) {
      rows.forEach((row) => setStatus($('[data-testid="task-status"]', row), task.status));
    } else if ($("#task-rows") && !location.search) {
      addRow(task);
    }
  };

  const connect = () => {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      if (live === "task") refreshTask(); // whatever changed before we listened
    });
    source.addEventListener("task", (event) => {
      try {
        onTask(JSON.parse(event.data));
      } catch (error) {
        /* a malformed message: ignore it */
      }
    });
  };
  connect();
})();
