/* FunASR Portal's scripts: the entry point that base.html loads as a module. Live job updates over
   the websocket contract in transcription/progress.py, the dashboard's uploads (one request per
   file, three at a time) and microphone recordings. Their words come from Django's JavaScript
   catalog (/jsi18n/, a classic script that base.html loads first, so it has run before any
   module): the globals gettext(), ngettext() and interpolate() give them in the page's language. */
import "./behaviours.js";
import { dashboard } from "./dashboard.js";
import { jobPage } from "./job_page.js";
import { livePage } from "./live.js";
import { summaryPage } from "./summary_page.js";

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "dashboard") dashboard();
  if (page === "job") jobPage();
  if (page === "live") livePage();
  if (page === "summary") summaryPage();
});
