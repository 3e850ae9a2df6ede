/* The drop zone: files chosen or dropped (folders walked) are staged on the uploader. */

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

export function dropZone(form, uploader) {
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
