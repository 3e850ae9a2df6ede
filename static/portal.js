/* FunASR Portal: live job updates over the websocket contract in transcription/progress.py, the
   dashboard's uploads (one request per file, three at a time) and microphone recordings.
   Its words come from Django's JavaScript catalog (/jsi18n/, loaded first by base.html):
   gettext(), ngettext() and interpolate() give them in the page's language. */
"use strict";

const STATUS_LABELS = { queued: gettext("Queued"), running: gettext("Running"), done: gettext("Done"), failed: gettext("Failed") };
const MAX_PARALLEL_UPLOADS = 3;

/* ---------------------------------------------------------------- websocket */

/* Opens `path` and keeps it open. Every connect starts with a jobs.sync from the database, so
   `resync()` opens a second socket and, once its jobs.sync has arrived, retires the first:
   no event is lost in between (the server joins the group before it reads the database). */
function connect(path, onEvent) {
  const live = document.getElementById("live");
  let delay = 500;
  let current = null; // the socket whose jobs.sync was adopted
  let pending = null; // a newer socket, waiting for its jobs.sync
  let stopped = false;

  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.createdAt = performance.now();
    pending = socket;
    socket.onmessage = (msg) => {
      if (socket.retired) return;
      let event;
      try { event = JSON.parse(msg.data); } catch (e) { return; }
      if (!event || event.v !== 1) return; // a version this page does not know
      if (socket === pending && event.type === "jobs.sync") {
        const old = current;
        current = socket;
        pending = null;
        delay = 500;
        if (live) live.classList.add("on");
        if (old) { old.retired = true; old.close(); }
      }
      onEvent(event, socket);
    };
    socket.onclose = (close) => {
      if (socket.retired) return;
      socket.retired = true;
      if (socket === pending) pending = null;
      if (socket === current) { current = null; if (live) live.classList.remove("on"); }
      if (close.code === 4401 || close.code === 4404) { stopped = true; return; } // retrying will not help
      if (!current && !pending) {
        setTimeout(() => { if (!current && !pending && !stopped) open(); }, delay);
        delay = Math.min(delay * 2, 15000);
      }
    };
  }
  open();
  return { resync() { if (!stopped && !pending) open(); } };
}

/* ---------------------------------------------------------------- formatting */

function formatDuration(seconds) {
  return seconds === null || seconds === undefined ? "" : interpolate(gettext("%s s"), [seconds.toFixed(1)]);
}

/* As Django's filesizeformat, so the browser's words match the server's. */
function formatSize(bytes) {
  const units = [["GB", 1024 ** 3], ["MB", 1024 ** 2], ["KB", 1024]];
  for (const [unit, size] of units) if (bytes >= size) return `${(bytes / size).toFixed(1)} ${unit}`;
  return interpolate(ngettext("%s byte", "%s bytes", bytes), [bytes]);
}

function formatLeft(seconds) {
  if (seconds < 60) return interpolate(gettext("about %s s left"), [Math.max(1, Math.round(seconds))]);
  if (seconds < 3600) return interpolate(gettext("about %s min left"), [Math.round(seconds / 60)]);
  return interpolate(gettext("about %s h left"), [(seconds / 3600).toFixed(1)]);
}

function formatClock(seconds) {
  const s = Math.floor(seconds);
  const clock = `${Math.floor(s / 60) % 60}:${String(s % 60).padStart(2, "0")}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${clock.padStart(5, "0")}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function pad(n) { return String(n).padStart(2, "0"); }

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/* ---------------------------------------------------------------- job page and rows */

function fill(root, job) {
  const status = root.querySelector('[data-field="status"]');
  if (status) { status.textContent = STATUS_LABELS[job.status] || job.status; status.className = `status ${job.status}`; }
  const bar = root.querySelector('[data-field="progress"]');
  if (bar) bar.value = job.status === "done" ? 1 : job.progress;
  const error = root.querySelector('[data-field="error"]');
  if (error) error.textContent = job.error || "";
  const duration = root.querySelector('[data-field="duration"]');
  if (duration && job.duration !== null && job.duration !== undefined) duration.textContent = formatDuration(job.duration);
}

function actionForm(action, label, job) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = `${job.url}${action}/`;
  form.className = "inline";
  form.dataset.action = action;
  form.innerHTML = '<input type="hidden" name="csrfmiddlewaretoken"><input type="hidden" name="next"><button></button>';
  form.elements.csrfmiddlewaretoken.value = csrfToken();
  form.elements.next.value = location.pathname + location.search;
  const button = form.querySelector("button");
  button.className = action === "cancel" ? "danger small" : "small";
  button.textContent = label;
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = ` ${job.name}`;
  button.appendChild(hidden);
  return form;
}

function jobRow(job) {
  const row = document.createElement("tr");
  row.className = "job";
  row.dataset.job = job.id;
  row.innerHTML = `<td class="file"><a></a> <span class="batch-tag" data-field="batch"></span></td>
    <td><span class="status" data-field="status"></span> <span class="position" data-field="position"></span>
      <span class="error small" data-field="error"></span></td>
    <td class="progress-cell"><progress max="1" value="0" data-field="progress"></progress>
      <span class="progress-meta"><span data-field="progress-text"></span> <span data-field="eta"></span></span></td>
    <td data-field="duration"></td><td class="just-now"></td><td class="row-actions"></td>`;
  row.querySelector(".just-now").textContent = gettext("just now");
  const link = row.querySelector("a");
  row.querySelector("progress").setAttribute("aria-label", interpolate(gettext("Progress of %s"), [job.name]));
  link.href = job.url;
  link.textContent = job.name;
  row.lastElementChild.append(actionForm("cancel", gettext("Cancel"), job), " ", actionForm("retry", gettext("Retry"), job));
  return row;
}

/* A server-rendered row's state, until the first jobs.sync replaces it. */
function rowState(row) {
  const number = (v) => (v === "" || v === undefined ? null : parseFloat(v));
  return {
    id: row.dataset.job,
    name: row.dataset.name || "",
    status: row.dataset.status,
    progress: number(row.dataset.progress) || 0,
    duration: number(row.dataset.duration),
    error: (row.querySelector('[data-field="error"]') || {}).textContent || "",
    batch: row.dataset.batch || "",
    url: row.dataset.url,
  };
}

/* ---------------------------------------------------------------- the dashboard's table */

class Board {
  constructor(tbody, { firstPage }) {
    this.tbody = tbody;
    this.firstPage = firstPage;
    this.jobs = new Map(); // id -> {state, row, rank (lower = newer), seenAt, samples, etaAt}
    this.groups = new Map(); // batch name -> header row
    this.newest = 0;
    this.dirtyLayout = false;
    this.dirtyGroups = new Set();
    this.flushQueued = false;
    this.announcer = document.getElementById("announcer");
    this.onQueueLeft = () => {};
    this.onNeedsPosition = () => {};
    tbody.querySelectorAll("tr[data-job]").forEach((row, index) => {
      const state = rowState(row);
      this.jobs.set(state.id, { state, row, rank: index, seenAt: performance.now(), samples: [], etaAt: null });
      this.render(this.jobs.get(state.id));
    });
    this.dirtyLayout = true;
    this.flush();
    setInterval(() => this.tick(), 1000);
  }

  /* Merge one job state. `insert`: add a row for a job not shown yet (first page only). */
  apply(state, { insert = true, sync = false } = {}) {
    let entry = this.jobs.get(state.id);
    if (!entry) {
      if (!insert || !this.firstPage) return;
      entry = { state: null, row: jobRow(state), rank: --this.newest, seenAt: performance.now(), samples: [], etaAt: null };
      this.jobs.set(state.id, entry);
      this.dirtyLayout = true;
    }
    const prev = entry.state;
    const next = { ...state, batch: state.batch || "" };
    // Only jobs.sync carries queue positions; job.updated keeps the last one while still queued.
    if (!("position" in state) && prev && prev.status === "queued" && next.status === "queued") next.position = prev.position;
    if (next.status !== "queued") delete next.position;
    this.track(entry, prev, next);
    entry.state = next;
    if (!prev || prev.batch !== next.batch) {
      this.dirtyLayout = true;
      if (prev && prev.batch) this.dirtyGroups.add(prev.batch);
    }
    if (next.batch) this.dirtyGroups.add(next.batch);
    this.render(entry);
    if (prev && prev.status !== next.status) {
      if (!sync) this.announce(`${next.name}: ${STATUS_LABELS[next.status] || next.status}.`);
      if (prev.status === "queued") this.onQueueLeft();
    }
    if (!sync && next.status === "queued" && !next.position) this.onNeedsPosition();
    this.scheduleFlush();
  }

  /* jobs.sync: the truth at connect time (the newest 200 jobs). Jobs newer than the oldest row
     shown join the page; rows of jobs that the server no longer lists are gone (deleted
     elsewhere), unless this page learned of them after that socket was opened. */
  sync(states, socket) {
    const listed = new Set(states.map((s) => s.id));
    let oldestShown = this.jobs.size ? -1 : states.length;
    states.forEach((state, index) => {
      const entry = this.jobs.get(state.id);
      if (!entry) return;
      oldestShown = index;
      if (this.firstPage) entry.rank = index;
    });
    states.forEach((state, index) => {
      const known = this.jobs.has(state.id);
      if (!known && index > oldestShown) return; // older than this page shows: on later pages
      this.apply(state, { sync: true });
      if (!known && this.firstPage) this.jobs.get(state.id).rank = index;
    });
    if (this.firstPage) this.newest = Math.min(0, ...[...this.jobs.values()].map((e) => e.rank));
    if (this.firstPage && states.length < 200) {
      for (const [id, entry] of this.jobs) {
        if (!listed.has(id) && entry.seenAt < socket.createdAt) {
          entry.row.remove();
          this.jobs.delete(id);
          if (entry.state.batch) this.dirtyGroups.add(entry.state.batch);
        }
      }
    }
    this.dirtyLayout = true;
    this.scheduleFlush();
  }

  /* Samples for the time-left estimate: rate = Δprogress / Δtime over the last few events. */
  track(entry, prev, next) {
    if (next.status !== "running") { entry.samples = []; entry.etaAt = null; return; }
    if (!prev || prev.status !== "running" || next.progress < prev.progress) entry.samples = [];
    const now = performance.now();
    const last = entry.samples[entry.samples.length - 1];
    if (!last || last.p !== next.progress) entry.samples.push({ t: now, p: next.progress });
    entry.samples = entry.samples.slice(-6);
    entry.etaAt = null;
    if (entry.samples.length >= 2) {
      const first = entry.samples[0];
      const newest = entry.samples[entry.samples.length - 1];
      const rate = (newest.p - first.p) / ((newest.t - first.t) / 1000);
      if (rate > 0) entry.etaAt = newest.t + ((1 - newest.p) / rate) * 1000;
    }
  }

  render(entry) {
    const job = entry.state;
    const row = entry.row;
    fill(row, job);
    row.dataset.status = job.status;
    const position = row.querySelector('[data-field="position"]');
    position.textContent = job.status === "queued" && job.position ? interpolate(gettext("#%s in queue"), [job.position]) : "";
    const text = row.querySelector('[data-field="progress-text"]');
    if (job.status === "running") {
      text.textContent = job.duration
        ? interpolate(gettext("%(done)s of %(total)s s"), { done: Math.floor(job.progress * job.duration), total: Math.round(job.duration) }, true)
        : `${Math.floor(job.progress * 100)}%`;
    } else text.textContent = "";
    this.renderEta(entry);
    const tag = row.querySelector('[data-field="batch"]');
    if (tag) tag.textContent = job.batch;
    row.classList.toggle("in-batch", Boolean(job.batch));
    const cancel = row.querySelector('form[data-action="cancel"]');
    const retry = row.querySelector('form[data-action="retry"]');
    if (cancel) cancel.hidden = !(job.status === "queued" || job.status === "running");
    if (retry) retry.hidden = job.status !== "failed";
  }

  renderEta(entry) {
    const eta = entry.row.querySelector('[data-field="eta"]');
    if (!eta) return;
    eta.textContent = entry.etaAt === null ? "" : formatLeft(Math.max(0, (entry.etaAt - performance.now()) / 1000));
  }

  tick() {
    for (const entry of this.jobs.values()) if (entry.etaAt !== null) this.renderEta(entry);
  }

  hasQueued() {
    for (const entry of this.jobs.values()) if (entry.state.status === "queued") return true;
    return false;
  }

  announce(text) {
    if (!this.announcer) return;
    this.announcer.textContent = text;
  }

  scheduleFlush() {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => { this.flushQueued = false; this.flush(); });
  }

  flush() {
    if (this.dirtyLayout) { this.dirtyLayout = false; this.layout(); }
    for (const batch of this.dirtyGroups) this.renderGroup(batch);
    this.dirtyGroups.clear();
  }

  /* Newest first; the jobs of a batch together, under a header at the place of its newest job. */
  layout() {
    const entries = [...this.jobs.values()].sort((a, b) => a.rank - b.rank);
    const members = new Map();
    for (const entry of entries) {
      if (!entry.state.batch) continue;
      if (!members.has(entry.state.batch)) members.set(entry.state.batch, []);
      members.get(entry.state.batch).push(entry);
    }
    const order = [];
    for (const entry of entries) {
      const batch = entry.state.batch;
      if (!batch) { order.push(entry.row); continue; }
      const group = members.get(batch);
      if (!group) continue; // already placed
      members.delete(batch);
      order.push(this.header(batch));
      group.forEach((m) => order.push(m.row));
      this.dirtyGroups.add(batch);
    }
    const placed = new Set(order);
    for (const [batch, header] of this.groups) {
      if (!placed.has(header)) { header.remove(); this.groups.delete(batch); this.dirtyGroups.delete(batch); }
    }
    let cursor = this.tbody.firstElementChild;
    for (const el of order) {
      if (el === cursor) { cursor = cursor.nextElementSibling; continue; }
      this.tbody.insertBefore(el, cursor);
    }
    const empty = this.tbody.querySelector("tr.empty");
    if (order.length && empty) empty.remove();
    if (!order.length && !empty) {
      const row = document.createElement("tr");
      row.className = "empty";
      row.innerHTML = '<td colspan="6"></td>';
      row.firstElementChild.textContent = gettext("Nothing yet: upload a recording above.");
      this.tbody.appendChild(row);
    }
  }

  header(batch) {
    let header = this.groups.get(batch);
    if (header) return header;
    header = document.createElement("tr");
    header.className = "batch-header";
    header.dataset.batchHeader = batch;
    header.innerHTML = `<th scope="row"><span class="batch-label"></span> <span class="batch-name"></span>
        <span class="hint small" data-batch-field="count"></span></th>
      <td data-batch-field="summary"></td>
      <td class="progress-cell"><progress max="1" value="0" data-batch-field="progress"></progress>
        <span class="progress-meta" data-batch-field="percent"></span></td>
      <td data-batch-field="duration"></td><td colspan="2"></td>`;
    header.querySelector(".batch-label").textContent = gettext("Batch");
    header.querySelector(".batch-name").textContent = batch;
    header.querySelector("progress").setAttribute("aria-label", interpolate(gettext("Progress of batch %s"), [batch]));
    this.groups.set(batch, header);
    return header;
  }

  /* The batch's overall progress: the mean of its jobs' (a finished job counts as complete). */
  renderGroup(batch) {
    const header = this.groups.get(batch);
    if (!header) return;
    let total = 0, done = 0, failed = 0, sum = 0, seconds = 0;
    for (const entry of this.jobs.values()) {
      const job = entry.state;
      if (job.batch !== batch) continue;
      total += 1;
      if (job.status === "done") done += 1;
      if (job.status === "failed") failed += 1;
      sum += job.status === "done" || job.status === "failed" ? 1 : job.progress;
      seconds += job.duration || 0;
    }
    const mean = total ? sum / total : 0;
    header.querySelector('[data-batch-field="count"]').textContent = interpolate(ngettext("%s file", "%s files", total), [total]);
    const summary = interpolate(gettext("%(done)s/%(total)s done"), { done, total }, true);
    header.querySelector('[data-batch-field="summary"]').textContent =
      failed ? `${summary} · ${interpolate(gettext("%s failed"), [failed])}` : summary;
    header.querySelector('[data-batch-field="progress"]').value = mean;
    header.querySelector('[data-batch-field="percent"]').textContent = `${Math.floor(mean * 100)}%`;
    header.querySelector('[data-batch-field="duration"]').textContent = seconds ? formatDuration(seconds) : "";
    header.classList.toggle("finished", done + failed === total);
  }
}

/* ---------------------------------------------------------------- uploads */

class Uploader {
  constructor(form, { onCreated, onDrained }) {
    this.form = form;
    this.list = document.getElementById("upload-list");
    this.summary = document.getElementById("upload-summary");
    this.clear = document.getElementById("clear-uploads");
    this.error = document.getElementById("upload-error");
    this.items = [];
    this.waiting = [];
    this.active = 0;
    this.onCreated = onCreated;
    this.onDrained = onDrained;
    this.clear.addEventListener("click", () => {
      this.items = this.items.filter((item) => {
        if (item.state !== "done" && item.state !== "refused") return true;
        item.li.remove();
        return false;
      });
      this.update();
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.active || this.waiting.length) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  /* Files chosen or dropped wait for "Upload and transcribe", so the options can still change. */
  stage(files) {
    const maxBytes = parseInt(this.form.dataset.maxBytes || "", 10) || null; // absent: the server decides
    for (const file of files) {
      const item = this.item(file);
      if (maxBytes && file.size > maxBytes) {
        this.set(item, "refused", interpolate(gettext("%(name)s is %(size)s; the limit is %(limit)s."),
          { name: file.name, size: formatSize(file.size), limit: formatSize(maxBytes) }, true));
      } else this.set(item, "ready", gettext("Ready to upload"));
    }
    this.update();
  }

  /* Upload everything staged, with the options as they are now. */
  start() {
    const ready = this.items.filter((item) => item.state === "ready");
    if (!ready.length) return false;
    const options = this.options();
    ready.forEach((item) => { item.options = options; this.set(item, "waiting", gettext("Waiting")); this.waiting.push(item); });
    this.pump();
    this.update();
    return true;
  }

  /* One file uploaded at once (a recording): no staging. */
  send(file) {
    const item = this.item(file);
    item.options = this.options();
    this.set(item, "waiting", gettext("Waiting"));
    this.waiting.push(item);
    this.pump();
    this.update();
  }

  options() {
    return [...new FormData(this.form).entries()].filter(([name]) => name !== "files");
  }

  item(file) {
    const li = document.createElement("li");
    li.className = "upload-item";
    li.innerHTML = `<span class="upload-name"></span> <span class="hint small upload-size"></span>
      <progress max="1" value="0"></progress> <span class="upload-percent small">0%</span>
      <span class="upload-status small"></span>
      <button type="button" class="link remove"></button> <button type="button" class="link again"></button>`;
    li.querySelector(".remove").textContent = gettext("Remove");
    li.querySelector(".again").textContent = gettext("Try again");
    li.querySelector(".upload-name").textContent = file.name;
    li.querySelector(".upload-size").textContent = formatSize(file.size);
    li.querySelector("progress").setAttribute("aria-label", interpolate(gettext("Upload of %s"), [file.name]));
    const item = { file, li, state: "", options: null, request: null };
    li.querySelector(".remove").addEventListener("click", () => this.remove(item));
    li.querySelector(".again").addEventListener("click", () => {
      this.set(item, "waiting", gettext("Waiting"));
      this.waiting.push(item);
      this.pump();
      this.update();
    });
    this.items.push(item);
    this.list.appendChild(li);
    this.list.hidden = false;
    return item;
  }

  remove(item) {
    this.waiting = this.waiting.filter((other) => other !== item);
    this.items = this.items.filter((other) => other !== item);
    item.li.remove();
    this.update();
  }

  set(item, state, message, progress) {
    item.state = state;
    item.li.dataset.state = state;
    const status = item.li.querySelector(".upload-status");
    status.textContent = message;
    status.classList.toggle("error", state === "refused" || state === "failed");
    if (progress !== undefined) this.progress(item, progress);
    item.li.querySelector(".remove").hidden = !(state === "ready" || state === "waiting");
    item.li.querySelector(".again").hidden = state !== "failed";
  }

  progress(item, fraction) {
    item.li.querySelector("progress").value = fraction;
    item.li.querySelector(".upload-percent").textContent = `${Math.floor(fraction * 100)}%`;
  }

  pump() {
    while (this.active < MAX_PARALLEL_UPLOADS && this.waiting.length) this.upload(this.waiting.shift());
  }

  upload(item) {
    this.active += 1;
    const request = new XMLHttpRequest();
    item.request = request;
    request.open("POST", this.form.action);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.upload.onprogress = (e) => {
      if (e.lengthComputable) this.progress(item, Math.min(e.loaded / e.total, 0.999));
    };
    request.upload.onload = () => { if (item.state === "uploading") this.set(item, "uploading", gettext("Saving…")); };
    const finished = (state, message, progress) => {
      this.active -= 1;
      item.request = null;
      this.set(item, state, message, progress);
      this.pump();
      this.update();
      if (!this.active && !this.waiting.length) this.onDrained();
    };
    request.onload = () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (e) { body = null; }
      if (request.status === 201 && body && body.jobs) {
        finished("done", body.jobs.length === 1 ? gettext("Uploaded: queued for transcription")
          : interpolate(gettext("Uploaded: %s jobs queued"), [body.jobs.length]), 1);
        if (body.jobs.length === 1) { // the name becomes a link to its job
          const name = item.li.querySelector(".upload-name");
          const link = document.createElement("a");
          link.href = body.jobs[0].url;
          link.textContent = item.file.name;
          name.replaceChildren(link);
        }
        this.onCreated(body.jobs);
      } else if (request.status === 400 && body && body.errors) {
        finished("refused", body.errors.join(" "));
      } else if (request.status === 413) {
        finished("refused", interpolate(gettext("%s is larger than the server accepts."), [item.file.name]));
      } else if (request.status === 403) {
        finished("failed", gettext("The server refused the upload: reload the page (and log in again), then try again."));
      } else if (request.status >= 200 && request.status < 300) {
        finished("failed", gettext("You have been logged out: reload the page and log in again."));
      } else {
        finished("failed", interpolate(gettext("The upload failed (HTTP %s)."), [request.status]));
      }
    };
    request.onerror = () => finished("failed", gettext("The connection was lost during the upload."));
    request.onabort = () => finished("failed", gettext("The upload was stopped."));
    const body = new FormData();
    item.options.forEach(([name, value]) => body.append(name, value));
    body.append("files", item.file, item.file.name);
    this.set(item, "uploading", gettext("Uploading"), 0);
    request.send(body);
  }

  update() {
    const count = (state) => this.items.filter((item) => item.state === state).length;
    const parts = [];
    const ready = count("ready"), waiting = count("waiting"), uploading = count("uploading");
    const done = count("done"), refused = count("refused"), failed = count("failed");
    if (ready) parts.push(interpolate(gettext("%s ready to upload"), [ready]));
    if (uploading) parts.push(interpolate(gettext("%s uploading"), [uploading]));
    if (waiting) parts.push(interpolate(gettext("%s waiting"), [waiting]));
    if (done) parts.push(interpolate(gettext("%s uploaded"), [done]));
    if (refused) parts.push(interpolate(gettext("%s refused"), [refused]));
    if (failed) parts.push(interpolate(gettext("%s failed"), [failed]));
    const text = parts.length ? interpolate(gettext("%s."), [parts.join(gettext(", "))]) : "";
    if (this.summary.textContent !== text) this.summary.textContent = text;
    this.clear.hidden = !(done || refused);
    this.list.hidden = !this.items.length;
    if (ready) this.error.hidden = true;
  }
}

/* Files dropped: folders are walked, keeping only what looks like audio or video. */
const MEDIA_EXTENSIONS = /\.(wav|mp3|m4a|aac|flac|ogg|oga|opus|webm|mp4|m4v|mov|mkv|avi|wma|wmv|amr|aiff?|caf|3gp|mpe?g|ts)$/i;

async function droppedFiles(dataTransfer) {
  // Everything is read from the event now: the DataTransfer is emptied once the handler yields.
  const items = [...(dataTransfer.items || [])].filter((item) => item.kind === "file");
  const entries = items.map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  const plain = items.map((item) => item.getAsFile());
  if (!entries.some((entry) => entry && entry.isDirectory)) return [...dataTransfer.files];
  const files = [];
  const readAll = (reader) => new Promise((resolve, reject) => {
    const all = [];
    const more = () => reader.readEntries((batch) => { if (!batch.length) resolve(all); else { all.push(...batch); more(); } }, reject);
    more();
  });
  const walk = async (entry, top) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      const media = /^(audio|video)\//.test(file.type) || MEDIA_EXTENSIONS.test(file.name);
      if (top || (media && !file.name.startsWith("."))) files.push(file);
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry.createReader())) await walk(child, false);
    }
  };
  for (let i = 0; i < entries.length; i += 1) {
    if (entries[i]) await walk(entries[i], true);
    else if (plain[i]) files.push(plain[i]);
  }
  return files;
}

function dropZone(form, uploader) {
  const zone = document.getElementById("drop-zone");
  const input = form.querySelector("input[type=file]");
  const choose = document.getElementById("choose-files");
  form.classList.add("enhanced");
  form.querySelectorAll("[data-enhanced-only]").forEach((el) => { el.hidden = false; });
  input.required = false; // staged files are not in the input any more
  input.tabIndex = -1; // the "Choose files" button is the way in by keyboard
  input.addEventListener("change", () => {
    uploader.stage([...input.files]);
    input.value = ""; // so the same file can be chosen again
  });
  choose.addEventListener("click", () => input.click());
  zone.addEventListener("click", (e) => {
    if (!e.target.closest("button, input, label, a")) input.click(); // those open it themselves
  });
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  zone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    uploader.stage(await droppedFiles(e.dataTransfer));
  });
  // A file dropped next to the zone must not replace the page with the file.
  window.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => { if (hasFiles(e) && !zone.contains(e.target)) e.preventDefault(); });
}

/* ---------------------------------------------------------------- microphone */

/* One string each (not concatenated pieces): xgettext only reads a literal as a whole. */
const MIC_HELP = {
  denied: gettext("The browser is not allowed to use your microphone. To allow it, click the icon at the left of the address bar (a padlock or sliders), open Site settings, set Microphone to Allow, then reload this page and press Record again. In Safari: Safari › Settings for This Website › Microphone › Allow. Browsers only offer the microphone to pages served over HTTPS or from localhost."),
  insecure: gettext("This browser does not offer the microphone to this page, because it is not served over HTTPS. Browsers only allow recording on pages served over HTTPS or from localhost: ask your administrator to serve the portal over HTTPS, or upload a recording made with another app."),
  missing: gettext("No microphone was found. Connect one (or switch it on in your computer's sound settings), then press Record again. If one is connected, check that the browser may use it: click the icon at the left of the address bar, open Site settings and set Microphone to Allow."),
  busy: gettext("The microphone could not be started: another application may be using it. Close that application, then press Record again."),
  unsupported: gettext("This browser cannot record audio. Use a current Chrome, Edge, Firefox or Safari, or upload a recording made with another app."),
  empty: gettext("Nothing was recorded: the microphone sent no sound. Check it in your computer's sound settings and try again."),
};

function micProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return "missing";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "busy";
  return "unsupported";
}

const RECORDING_TYPES = [
  ["audio/webm;codecs=opus", "webm"], ["audio/webm", "webm"],
  ["audio/mp4;codecs=mp4a.40.2", "m4a"], ["audio/mp4", "m4a"],
  ["audio/ogg;codecs=opus", "ogg"],
];

function recorder(uploader) {
  const start = document.getElementById("record-start");
  const stop = document.getElementById("record-stop");
  const live = document.getElementById("record-live");
  const clock = document.getElementById("record-time");
  const level = document.getElementById("record-level");
  const error = document.getElementById("record-error");
  // The server fails recordings longer than ASR_MAX_AUDIO_SECONDS: stop a second before it.
  const maxSeconds = parseInt(uploader.form.dataset.maxSeconds || "", 10) || null;
  let session = null;

  const explain = (problem) => { error.textContent = MIC_HELP[problem]; error.hidden = false; };

  start.addEventListener("click", async () => {
    error.hidden = true;
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return explain("insecure");
    if (!window.MediaRecorder) return explain("unsupported");
    start.disabled = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      start.disabled = false;
      return explain(micProblem(e));
    }
    const [mimeType, extension] = RECORDING_TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) || ["", "webm"];
    let rec;
    try {
      rec = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    } catch (e) {
      stream.getTracks().forEach((track) => track.stop());
      start.disabled = false;
      return explain("unsupported");
    }
    const began = new Date();
    const chunks = [];
    let stoppedAtLimit = false;
    session = { rec, stream };
    // The level meter: the loudness (RMS) of the last few milliseconds, from an AnalyserNode.
    let context = null, analyser = null, samples = null;
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (AudioContextClass) {
      try {
        context = new AudioContextClass();
        analyser = context.createAnalyser();
        analyser.fftSize = 2048;
        samples = new Uint8Array(analyser.fftSize);
        const silent = context.createGain();
        silent.gain.value = 0; // some browsers only run nodes that reach the speakers; nothing is heard
        context.createMediaStreamSource(stream).connect(analyser);
        analyser.connect(silent);
        silent.connect(context.destination);
        if (context.resume) context.resume();
      } catch (e) { analyser = null; }
    }
    const timer = setInterval(() => {
      const elapsed = (Date.now() - began.getTime()) / 1000;
      clock.textContent = formatClock(elapsed);
      if (maxSeconds && elapsed >= Math.max(1, maxSeconds - 1) && rec.state === "recording") {
        stoppedAtLimit = true;
        rec.stop();
        return;
      }
      if (!analyser) return;
      analyser.getByteTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += ((v - 128) / 128) ** 2;
      const rms = Math.sqrt(sum / samples.length);
      level.value = Math.max(0, Math.min(1, (20 * Math.log10(rms || 1e-6) + 60) / 60)); // -60 dB … 0 dB
    }, 100);
    rec.addEventListener("dataavailable", (e) => { if (e.data && e.data.size) chunks.push(e.data); });
    rec.addEventListener("stop", () => {
      clearInterval(timer);
      stream.getTracks().forEach((track) => track.stop());
      if (context) context.close();
      session = null;
      live.hidden = true;
      start.hidden = false;
      start.disabled = false;
      level.value = 0;
      start.focus();
      const type = (rec.mimeType || mimeType || "audio/webm").split(";")[0];
      const blob = new Blob(chunks, { type });
      if (!blob.size) return explain("empty");
      if (stoppedAtLimit) {
        error.textContent = interpolate(gettext("The recording reached the limit of %s, so it was stopped and uploaded."),
          [formatClock(maxSeconds)]);
        error.hidden = false;
      }
      const stamp = `${began.getFullYear()}-${pad(began.getMonth() + 1)}-${pad(began.getDate())} ${pad(began.getHours())}-${pad(began.getMinutes())}`;
      const ext = type === "audio/mp4" ? "m4a" : type === "audio/ogg" ? "ogg" : extension;
      uploader.send(new File([blob], `${interpolate(gettext("Recording %s"), [stamp])}.${ext}`, { type }));
    });
    // A microphone unplugged mid-recording ends its track: keep what was recorded.
    stream.getAudioTracks().forEach((track) => track.addEventListener("ended", () => { if (rec.state !== "inactive") rec.stop(); }));
    rec.start(1000);
    clock.textContent = "0:00";
    start.hidden = true;
    live.hidden = false;
    stop.focus();
  });

  stop.addEventListener("click", () => {
    if (session && session.rec.state !== "inactive") session.rec.stop();
  });
}

/* ---------------------------------------------------------------- pages */

function dashboard() {
  const params = new URLSearchParams(location.search);
  const firstPage = !params.get("page") || params.get("page") === "1";
  const form = document.getElementById("upload-form");
  const board = new Board(document.getElementById("jobs"), { firstPage });

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
    } catch (err) {
      if (row) row.querySelector('[data-field="error"]').textContent = gettext("That did not work (the connection or the server failed): try again.");
    } finally {
      button.disabled = false;
    }
  });
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
