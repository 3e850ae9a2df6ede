/* A job's state shown: on the job page, and in the dashboard's rows. */
import { csrfToken } from "./csrf.js";
import { formatDuration } from "./format.js";

export const STATUS_LABELS = { recording: gettext("Recording"), queued: gettext("Queued"), running: gettext("Running"), done: gettext("Done"), failed: gettext("Failed") };

export function fill(root, job) {
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

export function jobRow(job) {
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
export function rowState(row) {
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
