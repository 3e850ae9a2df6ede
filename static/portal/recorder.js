/* Recording from the microphone: the recording is uploaded when it stops. */
import { formatClock, pad } from "./format.js";

/* One string each (not concatenated pieces): xgettext only reads a literal as a whole. */
export const MIC_HELP = {
  denied: gettext("The browser is not allowed to use your microphone. To allow it, click the icon at the left of the address bar (a padlock or sliders), open Site settings, set Microphone to Allow, then reload this page and press Record again. In Safari: Safari › Settings for This Website › Microphone › Allow. Browsers only offer the microphone to pages served over HTTPS or from localhost."),
  insecure: gettext("This browser does not offer the microphone to this page, because it is not served over HTTPS. Browsers only allow recording on pages served over HTTPS or from localhost: ask your administrator to serve the portal over HTTPS, or upload a recording made with another app."),
  missing: gettext("No microphone was found. Connect one (or switch it on in your computer's sound settings), then press Record again. If one is connected, check that the browser may use it: click the icon at the left of the address bar, open Site settings and set Microphone to Allow."),
  busy: gettext("The microphone could not be started: another application may be using it. Close that application, then press Record again."),
  unsupported: gettext("This browser cannot record audio. Use a current Chrome, Edge, Firefox or Safari, or upload a recording made with another app."),
  empty: gettext("Nothing was recorded: the microphone sent no sound. Check it in your computer's sound settings and try again."),
};

export function micProblem(error) {
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

export function recorder(uploader) {
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
    } catch {
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
      } catch { analyser = null; }
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
