/* A job's summary page: the summary's progress live over the websocket ("summary.updated" in
   transcription/progress.py, sent for its questions' answers too); once what the page waits for has
   been written or has failed, the page is read again. */
import { connect } from "./socket.js";

export function summaryPage() {
  const root = document.getElementById("summary");
  const jobId = root.dataset.job;
  const bar = root.querySelector('[data-field="summary-progress"]');
  connect(`/ws/jobs/${jobId}/`, (event) => {
    if (event.type !== "summary.updated" || event.job.id !== jobId) return;
    if (bar) bar.value = event.summary.progress;
    const ended = event.summary.status === "done" || event.summary.status === "failed";
    if (ended && root.dataset.waiting) location.reload();
  });
}
