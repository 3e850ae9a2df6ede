/* The dashboard's table of jobs: live rows (queue position, time left) and batch groups. */
import { formatDuration, formatLeft } from "./format.js";
import { STATUS_LABELS, fill, jobRow, rowState } from "./jobs.js";

export class Board {
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
