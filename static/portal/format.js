/* How numbers, sizes and times are worded, in the page's language (Django's catalog, /jsi18n/). */

export function formatDuration(seconds) {
  return seconds === null || seconds === undefined ? "" : interpolate(gettext("%s s"), [seconds.toFixed(1)]);
}

/* As Django's filesizeformat, so the browser's words match the server's. */
export function formatSize(bytes) {
  const units = [["GB", 1024 ** 3], ["MB", 1024 ** 2], ["KB", 1024]];
  for (const [unit, size] of units) if (bytes >= size) return `${(bytes / size).toFixed(1)} ${unit}`;
  return interpolate(ngettext("%s byte", "%s bytes", bytes), [bytes]);
}

export function formatLeft(seconds) {
  if (seconds < 60) return interpolate(gettext("about %s s left"), [Math.max(1, Math.round(seconds))]);
  if (seconds < 3600) return interpolate(gettext("about %s min left"), [Math.round(seconds / 60)]);
  return interpolate(gettext("about %s h left"), [(seconds / 3600).toFixed(1)]);
}

export function formatClock(seconds) {
  const s = Math.floor(seconds);
  const clock = `${Math.floor(s / 60) % 60}:${String(s % 60).padStart(2, "0")}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${clock.padStart(5, "0")}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function pad(n) { return String(n).padStart(2, "0"); }
