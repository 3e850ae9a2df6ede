/* A job's summary page: the summary's progress live over the websocket ("summary.updated" in
   transcription/progress.py, and "question.updated" for its questions); once what the page waits
   for has been written or has failed, the page is read again. */
import { connect } from "./socket.js";

export function summaryPage() {
  const root = document.getElementById("summary");
  const jobId = root.dataset.job;
  const bar = root.querySelector('[data-field="summary-progress"]');
  connect(`/ws/jobs/${jobId}/`, (event) => {
    if (event.job.id !== jobId) return;
    const state = event.type === "summary.updated" ? event.summary : event.type === "question.updated" ? event.question : null;
    if (!state) return;
    if (bar && event.type === "summary.updated") bar.value = state.progress;
    const ended = state.status === "done" || state.status === "failed";
    if (ended && root.dataset.waiting) location.reload();
  });
}
