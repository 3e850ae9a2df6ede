/* The dashboard's uploads: one request per file, three at a time, each with its own progress. */
import { csrfToken } from "./csrf.js";
import { formatSize } from "./format.js";

const MAX_PARALLEL_UPLOADS = 3;

export class Uploader {
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
      try { body = JSON.parse(request.responseText); } catch { body = null; }
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
