/* Inline correction of a transcript's segments on the job page. The server keeps the machine's
   original words beside every edit (services.segment_edit). Words: Django's catalog (/jsi18n/).
   A module of its own: templates/transcription/job_detail.html loads it beside main.js. */
import { csrfToken } from "./csrf.js";

function startEditing(item) {
  const span = item.querySelector(".segment-text");
  const button = item.querySelector("button.edit");
  const editor = document.createElement("textarea");
  editor.className = "segment-editor";
  editor.value = span.dataset.text;
  editor.rows = 2;
  const save = document.createElement("button");
  save.type = "button";
  save.textContent = gettext("Save");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link";
  cancel.textContent = gettext("Cancel");
  const error = document.createElement("span");
  error.className = "error small";
  span.hidden = button.hidden = true;
  item.append(editor, save, cancel, error);
  editor.focus();
  const close = () => { [editor, save, cancel, error].forEach((el) => el.remove()); span.hidden = button.hidden = false; };
  cancel.addEventListener("click", close);
  save.addEventListener("click", async () => {
    const body = new URLSearchParams({ text: editor.value });
    const response = await fetch(button.dataset.url, {
      method: "POST", body, headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
    const data = await response.json();
    if (!response.ok) { error.textContent = data.error || interpolate(gettext("Not saved (%s)."), [response.status]); return; }
    span.textContent = span.dataset.text = data.segment.text;
    const machine = item.querySelector(".machine");
    machine.querySelector("q").textContent = data.segment.machine;
    machine.hidden = false;
    close();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("ol.segments button.edit").forEach((button) => {
    button.addEventListener("click", () => startEditing(button.closest("li")));
  });
});
