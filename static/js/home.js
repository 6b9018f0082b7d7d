// The home page's behaviours, as an ES module (it runs once per page however often it is
// loaded): the drop zone, the chosen example's one line, this browser's recent reports, and
// the chosen files kept when a refused submission swaps the forms in again. Listeners are
// delegated from the document: the home page is also swapped into a report page after Delete
// (app.js then loads this module). Nothing user-supplied is ever set as HTML.

import { listenForDrops } from "./home/drop-zone.js";
import { drawRecent, forgetReport, listenForRecentReports, refreshPending } from "./home/recent-reports.js";

const HTMX_HISTORY_KEY = "htmx-history-cache"; // where htmx keeps page snapshots for Back

listenForDrops();
listenForRecentReports();

// The example picker: the chosen example's one line (from its docstring, rendered by the server).
document.addEventListener("change", (event) => {
  if (event.target.id !== "example") return;
  const option = event.target.options[event.target.selectedIndex];
  const line = document.getElementById("example-description");
  if (line && option) line.textContent = option.getAttribute("data-description") || "";
});

// A big upload takes a while on a slow link (1 GiB at 10 Mbit/s: 15 minutes): say how far it is.
// htmx reports the upload's and then the answer's progress under one event name; the answer is
// small and replaces the form at once, so the last upload figures are what stays visible.
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest && event.target.closest("form");
  const line = form && form.querySelector(".upload-progress");
  const { lengthComputable, loaded, total } = event.detail;
  if (!line || !lengthComputable || !total) return;
  line.hidden = false;
  line.querySelector("progress").max = total;
  line.querySelector("progress").value = loaded;
  line.querySelector(".upload-progress-text").textContent =
    loaded < total ? `Uploading… ${Math.floor((100 * loaded) / total)} %` : "Uploaded; checking the file…";
});

// A refused submission: htmx swaps the forms in again, with the server's sentence at the field.
// A file input cannot be filled in by the server, so the chosen files are put back here.
let kept = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  kept = target && target.id === "submit-region" ? snapshot(target) : null;
});
document.addEventListener("htmx:afterSwap", (event) => {
  const region = document.getElementById("submit-region");
  if (!kept || !region) return;
  // After a 413 the server could not read the form, so it could not fill the values in either.
  restore(region, kept, event.detail.xhr && event.detail.xhr.status === 413);
  kept = null;
  region.querySelector("[aria-invalid=true]")?.focus();
});

function snapshot(region) {
  return Array.from(region.querySelectorAll("input, textarea, select"))
    .filter((field) => field.id && field.type !== "hidden" && field.type !== "password")
    .map((field) => ({ id: field.id, type: field.type, value: field.value, checked: field.checked,
                       files: field.type === "file" ? Array.from(field.files) : [] }));
}

function restore(region, fields, values) {
  for (const saved of fields) {
    const field = document.getElementById(saved.id);
    if (!field || !region.contains(field)) continue;
    if (saved.type === "file") {
      if (!saved.files.length || field.files.length) continue;
      const transfer = new DataTransfer();
      saved.files.forEach((file) => transfer.items.add(file));
      field.files = transfer.files;
    } else if (values) {
      if (saved.type === "checkbox" || saved.type === "radio") field.checked = saved.checked;
      else field.value = saved.value;
    }
  }
}

// After Delete: the report leaves this browser's list and htmx's snapshots for Back.
function forgetDeleted(root) {
  const notice = root.querySelector?.("[data-deleted-report]");
  if (!notice) return;
  const path = notice.getAttribute("data-deleted-url");
  forgetReport(notice.getAttribute("data-deleted-report"));
  notice.removeAttribute("data-deleted-report"); // once
  try {
    const snapshots = JSON.parse(window.sessionStorage.getItem(HTMX_HISTORY_KEY) || "[]");
    if (Array.isArray(snapshots)) {
      const others = snapshots.filter((item) => !item || item.url !== path);
      window.sessionStorage.setItem(HTMX_HISTORY_KEY, JSON.stringify(others));
    }
  } catch {
    // no storage: nothing was kept there either
  }
}

function prepare(root) {
  const zone = document.getElementById("drop-zone");
  if (!zone) return; // not the home page (any more)
  zone.hidden = false;
  forgetDeleted(root || document);
  drawRecent();
  refreshPending();
}

document.addEventListener("htmx:afterSettle", (event) => prepare(event.detail.elt));
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => prepare(document));
else prepare(document);
