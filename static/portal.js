/* FunASR Portal: live job updates over the websocket contract in transcription/progress.py. */
"use strict";

const STATUS_LABELS = { queued: "Queued", running: "Running", done: "Done", failed: "Failed" };

function connect(path, onEvent) {
  const live = document.getElementById("live");
  let delay = 500;
  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.onopen = () => { delay = 500; if (live) live.classList.add("on"); };
    socket.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      if (event.v === 1) onEvent(event);
    };
    socket.onclose = (close) => {
      if (live) live.classList.remove("on");
      if (close.code === 4401 || close.code === 4404) return; // not allowed: retrying will not help
      setTimeout(open, delay); // the server re-sends the true state on every connect
      delay = Math.min(delay * 2, 15000);
    };
  }
  open();
}

function formatDuration(seconds) {
  return seconds === null || seconds === undefined ? "" : `${seconds.toFixed(1)} s`;
}

function fill(root, job) {
  const status = root.querySelector('[data-field="status"]');
  if (status) { status.textContent = STATUS_LABELS[job.status] || job.status; status.className = `status ${job.status}`; }
  const bar = root.querySelector('[data-field="progress"]');
  if (bar) bar.value = job.status === "done" ? 1 : job.progress;
  const error = root.querySelector('[data-field="error"]');
  if (error) error.textContent = job.error || "";
  const duration = root.querySelector('[data-field="duration"]');
  if (duration && job.duration !== null) duration.textContent = formatDuration(job.duration);
}

function jobRow(job) {
  const row = document.createElement("tr");
  row.dataset.job = job.id;
  const link = document.createElement("a");
  link.href = job.url;
  link.textContent = job.name;
  row.innerHTML = `<td></td><td><span data-field="status"></span> <span class="error small" data-field="error"></span></td>
    <td><progress max="1" value="0" data-field="progress"></progress></td><td data-field="duration"></td><td>just now</td>`;
  row.firstChild.appendChild(link);
  return row;
}

function upsert(job, allowInsert) {
  const table = document.getElementById("jobs");
  let row = table.querySelector(`tr[data-job="${job.id}"]`);
  if (!row) {
    if (!allowInsert) return;
    row = jobRow(job);
    table.prepend(row);
    const empty = table.querySelector("tr.empty");
    if (empty) empty.remove();
  }
  fill(row, job);
}

function dashboard() {
  const firstPage = !new URLSearchParams(location.search).get("page") || new URLSearchParams(location.search).get("page") === "1";
  connect("/ws/jobs/", (event) => {
    if (event.type === "jobs.sync") event.jobs.slice().reverse().forEach((job) => upsert(job, firstPage));
    if (event.type === "job.updated") upsert(event.job, firstPage);
  });
  const form = document.getElementById("upload-form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    uploadWithProgress(form);
  });
}

function uploadWithProgress(form) {
  const bar = document.getElementById("upload-progress");
  const error = document.getElementById("upload-error");
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.setRequestHeader("Accept", "application/json");
  request.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  request.onload = () => {
    bar.hidden = true;
    const body = JSON.parse(request.responseText || "{}");
    if (request.status === 201) {
      body.jobs.forEach((job) => upsert(job, true));
      form.reset();
    } else {
      error.textContent = (body.errors || [`Upload failed (${request.status}).`]).join(" ");
      error.hidden = false;
    }
  };
  request.onerror = () => { bar.hidden = true; error.textContent = "Upload failed: the connection was lost."; error.hidden = false; };
  error.hidden = true;
  bar.hidden = false;
  bar.value = 0;
  request.send(new FormData(form));
}

function jobPage() {
  const root = document.getElementById("job");
  const jobId = root.dataset.job;
  const shownStatus = root.querySelector('[data-field="status"]').className.split(" ")[1];
  connect(`/ws/jobs/${jobId}/`, (event) => {
    const jobs = event.type === "jobs.sync" ? event.jobs : [event.job];
    jobs.filter((job) => job.id === jobId).forEach((job) => {
      fill(root, job);
      // The transcript is rendered by the server: fetch it once the job is finished.
      if ((job.status === "done" || job.status === "failed") && job.status !== shownStatus) location.reload();
    });
  });
  const showRaw = document.getElementById("show-raw");
  if (showRaw) {
    showRaw.addEventListener("change", () => {
      document.querySelectorAll("[data-raw]").forEach((el) => {
        el.textContent = showRaw.checked ? el.dataset.raw : el.dataset.text;
      });
    });
  }
  const player = document.getElementById("player");
  if (!player) return; // the recording was deleted under the retention policy
  const seeks = Array.from(document.querySelectorAll("button.seek"));
  seeks.forEach((button) => {
    button.addEventListener("click", () => { player.currentTime = parseFloat(button.dataset.start); player.play(); });
  });
  // Highlight the segment being played, and keep it in view.
  let current = null;
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    const playing = seeks.find((b) => t >= parseFloat(b.dataset.start) && t < parseFloat(b.dataset.end));
    const item = playing ? playing.closest("li") : null;
    if (item === current) return;
    if (current) current.classList.remove("playing");
    if (item) { item.classList.add("playing"); item.scrollIntoView({ block: "nearest" }); }
    current = item;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "dashboard") dashboard();
  if (page === "job") jobPage();
});
