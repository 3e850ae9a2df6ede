/* The dashboard: its table kept live over the websocket, uploads, the microphone. */
import { Board } from "./board.js";
import { csrfToken } from "./csrf.js";
import { dropZone } from "./dropzone.js";
import { languageChoice } from "./language.js";
import { recorder } from "./recorder.js";
import { connect } from "./socket.js";
import { Uploader } from "./uploader.js";

export function dashboard() {
  const params = new URLSearchParams(location.search);
  const firstPage = !params.get("page") || params.get("page") === "1";
  const form = document.getElementById("upload-form");
  const board = new Board(document.getElementById("jobs"), { firstPage });
  languageChoice(form);

  // Queue positions come only with jobs.sync (on connect): when they change, connect again.
  let socket = null;
  let resyncTimer = null;
  let lastResync = -Infinity;
  const resync = (wait) => {
    if (resyncTimer) return;
    const delay = Math.max(wait, lastResync + 2000 - performance.now());
    resyncTimer = setTimeout(() => { resyncTimer = null; lastResync = performance.now(); socket.resync(); }, delay);
  };
  board.onQueueLeft = () => { if (board.hasQueued()) resync(1000); };
  board.onNeedsPosition = () => resync(300); // a job queued since the last jobs.sync (uploaded, retried)
  setInterval(() => { if (board.hasQueued() && document.visibilityState === "visible") resync(0); }, 30000);

  socket = connect("/ws/jobs/", (event, source) => {
    if (event.type === "jobs.sync") board.sync(event.jobs, source);
    if (event.type === "job.updated") board.apply(event.job);
  });

  // Other tabs of this browser learn of new uploads at once (the server announces a job when it
  // starts, not when it is queued).
  const user = form.dataset.user;
  const tabs = window.BroadcastChannel ? new BroadcastChannel("funasr-portal-jobs") : null;
  if (tabs) {
    tabs.onmessage = (msg) => {
      const data = msg.data || {};
      if (data.type !== "jobs.created" || data.user !== user) return;
      data.jobs.forEach((job) => board.apply(job));
    };
  }

  const uploader = new Uploader(form, {
    onCreated: (jobs) => {
      jobs.forEach((job) => board.apply(job));
      if (tabs) tabs.postMessage({ type: "jobs.created", user, jobs });
    },
    onDrained: () => resync(0),
  });
  dropZone(form, uploader);
  recorder(uploader);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const error = document.getElementById("upload-error");
    if (uploader.start()) { error.hidden = true; return; }
    error.textContent = gettext("Choose at least one audio or video file, or drop files above.");
    error.hidden = false;
  });

  // Cancel and Retry, without leaving the page.
  document.getElementById("jobs").addEventListener("submit", async (e) => {
    const actionForm = e.target.closest("form[data-action]");
    if (!actionForm) return;
    e.preventDefault();
    const button = actionForm.querySelector("button");
    const row = actionForm.closest("tr");
    button.disabled = true;
    try {
      const response = await fetch(actionForm.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: new FormData(actionForm),
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => null);
      if (body && body.job) board.apply(body.job);
      if (response.status === 409 && row) {
        row.querySelector('[data-field="error"]').textContent = actionForm.dataset.action === "cancel"
          ? gettext("Only a queued or running job can be cancelled.") : gettext("Only a failed job can be retried.");
      } else if (!body || !body.job) {
        throw new Error(`HTTP ${response.status}`);
      }
    } catch {
      if (row) row.querySelector('[data-field="error"]').textContent = gettext("That did not work (the connection or the server failed): try again.");
    } finally {
      button.disabled = false;
    }
  });
}
