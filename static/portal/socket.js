/* The live connection: the websocket contract in transcription/progress.py. */

/* Opens `path` and keeps it open. Every connect starts with a jobs.sync from the database, so
   `resync()` opens a second socket and, once its jobs.sync has arrived, retires the first:
   no event is lost in between (the server joins the group before it reads the database). */
export function connect(path, onEvent) {
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
      try { event = JSON.parse(msg.data); } catch { return; }
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
