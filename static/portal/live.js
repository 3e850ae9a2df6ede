/* The live page: the microphone streamed to /ws/live/ (transcription/live_consumer.py), captions
   as they come. Every frame is kept until the server says it is stored ("live.stored"), so a
   dropped connection loses nothing: the page reconnects, resumes the session, and sends again
   from where the server's recording ends ("live.started"'s samples). */
import { formatClock } from "./format.js";
import { MIC_HELP, micProblem } from "./recorder.js";

const RATE = 16000;
const CLOSE_REFUSED = 4429;
const CLOSE_FINAL = [4401, 4409, CLOSE_REFUSED]; // reconnecting will not help

export function livePage() {
  const root = document.getElementById("live");
  const $ = (id) => document.getElementById(id);
  const [start, pause, resume, stop] = ["live-start", "live-pause", "live-resume", "live-stop"].map($);
  const status = $("live-status"), error = $("live-error"), level = $("live-level"), clock = $("live-time");
  const finalText = $("live-final"), partialText = $("live-partial");
  let session = null;

  const show = (button, shown) => { button.hidden = !shown; };
  show(start, true); // hidden until this script runs: a click before it would do nothing
  const say = (text) => { status.textContent = text; };
  const fail = (text) => { error.textContent = text; error.hidden = false; };

  start.addEventListener("click", async () => {
    error.hidden = true;
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return fail(MIC_HELP.insecure);
    if (!window.AudioWorkletNode) return fail(MIC_HELP.unsupported);
    start.disabled = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (e) {
      start.disabled = false;
      return fail(MIC_HELP[micProblem(e)]);
    }
    finalText.textContent = ""; partialText.textContent = ""; $("live-done").hidden = true;
    session = await open(stream);
    if (!session) { start.disabled = false; return; }
    show(start, false); show(pause, true); show(stop, true);
    $("live-options").querySelectorAll("select, input").forEach((field) => { field.disabled = true; });
  });
  pause.addEventListener("click", () => { session.paused = true; show(pause, false); show(resume, true); say(gettext("Paused: nothing is recorded until you resume.")); });
  resume.addEventListener("click", () => { session.paused = false; show(resume, false); show(pause, true); say(gettext("Recording.")); });
  stop.addEventListener("click", () => { session.stop(); stop.disabled = true; show(pause, false); show(resume, false); });

  async function open(stream) {
    const context = new AudioContext();
    try {
      await context.audioWorklet.addModule(root.dataset.worklet);
    } catch {
      stream.getTracks().forEach((track) => track.stop());
      fail(MIC_HELP.unsupported);
      return null;
    }
    const node = new AudioWorkletNode(context, "pcm-capture");
    const silent = context.createGain();
    silent.gain.value = 0; // the graph must reach the speakers to run; nothing is heard
    context.createMediaStreamSource(stream).connect(node);
    node.connect(silent);
    silent.connect(context.destination);
    const state = {
      paused: false, stopping: false, ended: false, job: null, socket: null, delay: 500,
      captured: 0, // samples captured (not paused) so far: the next frame's offset
      pending: [], // frames not yet acknowledged as stored: {offset, pcm}
      stop() {
        state.stopping = true;
        say(gettext("Stopping: the last words are being written…"));
        if (state.socket && state.socket.readyState === WebSocket.OPEN && state.job) state.socket.send(JSON.stringify({ type: "stop" }));
      },
    };
    node.port.onmessage = ({ data }) => {
      level.value = Math.min(1, data.level * 4);
      if (state.paused || state.stopping || state.ended) return;
      const frame = { offset: state.captured, pcm: new Int16Array(data.pcm) };
      state.captured += frame.pcm.length;
      clock.textContent = formatClock(state.captured / RATE);
      state.pending.push(frame);
      send(state, frame);
    };
    const release = () => { stream.getTracks().forEach((track) => track.stop()); context.close(); };
    state.release = release;
    connect(state);
    return state;
  }

  function send(state, frame) {
    const socket = state.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !state.job) return; // sent on reconnection
    const message = new ArrayBuffer(4 + frame.pcm.byteLength);
    new DataView(message).setUint32(0, frame.offset, true);
    new Int16Array(message, 4).set(frame.pcm);
    socket.send(message);
  }

  function connect(state) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/live/`);
    state.socket = socket;
    socket.onopen = () => {
      if (state.job) return socket.send(JSON.stringify({ type: "resume", job: state.job }));
      const lists = $("live-lists") ? Array.from($("live-lists").selectedOptions, (option) => option.value) : [];
      const speakers = $("id_speakers") ? $("id_speakers").value : "";
      socket.send(JSON.stringify({ type: "start", profile: $("live-profile").value, name: $("live-name").value, lists, speakers, extras: extras() }));
    };
    socket.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      if (!event || event.v !== 1) return;
      if (event.type === "live.started") started(state, event);
      if (event.type === "live.stored") state.pending = state.pending.filter((f) => f.offset + f.pcm.length > event.samples);
      if (event.type === "live.caption") caption(event);
      if (event.type === "live.status") say(event.message);
      if (event.type === "live.refused") fail(event.message);
      if (event.type === "live.ended") ended(state, event);
    };
    socket.onclose = (close) => {
      if (state.ended || socket !== state.socket) return;
      if (CLOSE_FINAL.includes(close.code)) {
        state.release();
        if (close.code !== CLOSE_REFUSED) fail(gettext("This live session was closed: it goes on in another tab, or you were logged out."));
        reset();
        return;
      }
      say(gettext("The connection was lost: reconnecting. What you say meanwhile is kept and sent when it is back."));
      setTimeout(() => { if (!state.ended) connect(state); }, state.delay);
      state.delay = Math.min(state.delay * 2, 10000);
    };
  }

  function started(state, event) {
    state.job = event.job.id;
    state.delay = 500;
    $("live-job").href = event.url;
    say(state.paused ? gettext("Paused: nothing is recorded until you resume.") : gettext("Recording."));
    // The server has `samples`: send again what it lacks, in order, then a stop asked meanwhile.
    state.pending = state.pending.filter((f) => f.offset + f.pcm.length > event.samples);
    state.pending.forEach((frame) => {
      const skip = Math.max(0, event.samples - frame.offset);
      send(state, skip ? { offset: frame.offset + skip, pcm: frame.pcm.subarray(skip) } : frame);
    });
    if (state.stopping) state.socket.send(JSON.stringify({ type: "stop" }));
  }

  /* What other apps add to a recording (a summary, call checks), as the upload form has them. */
  function extras() {
    const chosen = {};
    root.querySelectorAll(".live-extra select, .live-extra input:checked").forEach((field) => {
      if (field.tagName === "SELECT") { if (field.value) chosen[field.name] = field.value; return; }
      (chosen[field.name] = chosen[field.name] || []).push(field.value);
    });
    return chosen;
  }

  function caption(event) {
    event.committed.forEach((piece) => {
      const span = document.createElement("span");
      span.className = "live-final";
      span.title = formatClock(piece.start);
      span.textContent = `${piece.text} `;
      finalText.append(span);
    });
    partialText.textContent = event.partial;
  }

  function ended(state, event) {
    state.ended = true;
    state.release();
    partialText.textContent = "";
    level.value = 0;
    if (event.kept) {
      $("live-done").hidden = false;
      say(gettext("Stopped. The recording is being transcribed like an upload; its job is in your list."));
    } else {
      say(gettext("Stopped. Nothing was recorded."));
    }
    reset();
  }

  function reset() {
    show(start, true); show(pause, false); show(resume, false); show(stop, false);
    start.disabled = false; stop.disabled = false;
    $("live-options").querySelectorAll("select, input").forEach((field) => { field.disabled = false; });
  }
}
