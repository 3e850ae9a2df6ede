/* The job page: kept live over the websocket; its player follows the transcript's segments. */
import { fill } from "./jobs.js";
import { connect } from "./socket.js";

export function jobPage() {
  const root = document.getElementById("job");
  const jobId = root.dataset.job;
  const shownStatus = root.querySelector('[data-field="status"]').className.split(" ")[1];
  const captions = document.getElementById("live-captions");
  connect(`/ws/jobs/${jobId}/`, (event) => {
    if (event.type === "live.caption" && captions && event.job.id === jobId) return showCaption(captions, event);
    if (event.type !== "jobs.sync" && event.type !== "job.updated") return; // a summary's, say
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
  // A link to a moment of the recording (a summary's citation: /jobs/<id>/#t=754) starts it there.
  const seekToHash = () => {
    const at = /^#t=(\d+(?:\.\d+)?)$/.exec(location.hash);
    if (at) { player.currentTime = parseFloat(at[1]); player.play().catch(() => {}); }
  };
  window.addEventListener("hashchange", seekToHash);
  seekToHash();
  const seeks = Array.from(document.querySelectorAll("button.seek"));
  seeks.forEach((button) => {
    button.addEventListener("click", () => { player.currentTime = parseFloat(button.dataset.start); player.play(); });
  });
  const follow = followSpeaker(player, seeks);
  // Highlight the segment being played, and keep it in view.
  let current = null;
  player.addEventListener("timeupdate", () => {
    follow();
    const t = player.currentTime;
    const playing = seeks.find((b) => t >= parseFloat(b.dataset.start) && t < parseFloat(b.dataset.end));
    const item = playing ? playing.closest("li") : null;
    if (item === current) return;
    if (current) current.classList.remove("playing");
    if (item) { item.classList.add("playing"); item.scrollIntoView({ block: "nearest" }); }
    current = item;
  });
}

/* A live session's captions, for the owner's other tabs and colleagues watching it (issue 20). */
function showCaption(captions, event) {
  const final = captions.querySelector(".live-final-text");
  event.committed.forEach((piece) => { final.append(document.createTextNode(`${piece.text} `)); });
  captions.querySelector(".live-partial").textContent = event.partial;
}

/* "Play only this speaker": the other speakers' segments are dimmed and skipped while playing.
   Returns the check the player runs on each time update. */
function followSpeaker(player, seeks) {
  let followed = "";
  document.querySelectorAll("input.follow").forEach((radio) => {
    radio.addEventListener("change", () => {
      followed = radio.value;
      document.querySelectorAll("ol.segments li[data-speaker]").forEach((item) => {
        item.classList.toggle("other-speaker", followed !== "" && item.dataset.speaker !== followed);
      });
    });
  });
  return () => {
    if (!followed || player.paused) return;
    const t = player.currentTime;
    const theirs = seeks.filter((b) => b.closest("li").dataset.speaker === followed);
    if (theirs.some((b) => t >= parseFloat(b.dataset.start) && t < parseFloat(b.dataset.end))) return;
    const next = theirs.find((b) => parseFloat(b.dataset.start) > t);
    if (next) player.currentTime = parseFloat(next.dataset.start);
    else player.pause();
  };
}
