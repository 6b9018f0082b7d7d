// "Recent reports": the reports this browser made, kept in its localStorage only (the server
// keeps no list of anyone's reports). Each entry: id, url, title, status, when (epoch ms).
// Entries are data, never markup: they reach the page as textContent and checked links.

const RECENT_KEY = "flamedeck.recentReports";
const MAX_RECENT = 20; // the newest are kept
const PENDING = ["queued", "running"];
const STATUS_LABELS = {
  queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled",
  deleted: "Deleted", gone: "No longer available",
};
const REPORT_PATH = /^(\/[A-Za-z0-9._~-]+)*\/r\/[A-Za-z0-9_-]+$/; // /r/<id>, also under a path prefix

/** Keep the list: add what this browser creates, remove on request, follow other tabs (once). */
export function listenForRecentReports() {
  // The server's answer to a form submission triggers this htmx event (see webapp/views/pages.py).
  document.addEventListener("flamedeck:report-created", (event) => {
    const report = event.detail || {};
    if (typeof report.id !== "string" || !REPORT_PATH.test(report.url)) return;
    const others = readRecent().filter((entry) => entry.id !== report.id);
    writeRecent([{ id: report.id, url: report.url, title: String(report.title || report.id),
                   status: String(report.status || "queued"), when: Date.now() }, ...others]);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-remove-recent]");
    if (!button) return;
    forgetReport(button.getAttribute("data-remove-recent"));
    drawRecent();
    const next = document.querySelector("#recent-list button[data-remove-recent]");
    if (next) next.focus(); // keep the keyboard in the list, not on the page's top
  });
  window.addEventListener("storage", (event) => { if (event.key === RECENT_KEY) drawRecent(); });
}

/** Take a report off this browser's list (it was removed, or deleted). */
export function forgetReport(id) {
  writeRecent(readRecent().filter((entry) => entry.id !== id));
}

/** Show the list (the section stays hidden while it is empty). */
export function drawRecent() {
  const section = document.getElementById("recent-reports");
  const list = document.getElementById("recent-list");
  if (!section || !list) return;
  const reports = readRecent();
  list.replaceChildren(...reports.map(recentItem));
  section.hidden = reports.length === 0;
}

/** Ask the API about reports still waiting or running when last seen (few, light requests). */
export function refreshPending() {
  const template = document.getElementById("recent-reports")?.getAttribute("data-api-url");
  if (!template) return;
  for (const entry of readRecent()) {
    if (!PENDING.includes(entry.status)) continue;
    fetch(template.replace("REPORT_ID", encodeURIComponent(entry.id)), { headers: { Accept: "application/json" } })
      .then((response) => {
        if (response.status === 410) return "deleted";
        if (response.status === 404) return "gone";
        return response.ok ? response.json().then((report) => report.status) : null;
      })
      .then((status) => {
        if (!status || status === entry.status) return;
        writeRecent(readRecent().map((other) => (other.id === entry.id ? { ...other, status } : other)));
        drawRecent();
      })
      .catch(() => {}); // offline: the list shows what it knew
  }
}

function readRecent() {
  try {
    const stored = JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(stored)
      ? stored.filter((entry) => entry && typeof entry.id === "string" && typeof entry.url === "string")
      : [];
  } catch {
    return []; // storage blocked or damaged: no list
  }
}

function writeRecent(reports) {
  try {
    window.localStorage.setItem(RECENT_KEY, JSON.stringify(reports.slice(0, MAX_RECENT)));
  } catch {
    // storage blocked or full: the list is a convenience
  }
}

function recentItem(entry) {
  const link = element("a", "recent-title", String(entry.title));
  link.href = REPORT_PATH.test(entry.url) ? entry.url : "#";
  const status = element("span", "recent-status", STATUS_LABELS[entry.status] || String(entry.status));
  status.setAttribute("data-status", String(entry.status));
  const when = element("time", "recent-when", "");
  const date = new Date(entry.when);
  if (!Number.isNaN(date.getTime())) {
    when.dateTime = date.toISOString();
    when.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
  const remove = element("button", "button small recent-remove", "Remove");
  remove.type = "button";
  remove.setAttribute("data-remove-recent", entry.id);
  remove.setAttribute("aria-label", `Remove ${entry.title} from this list`);
  const item = element("li", "recent-item", "");
  item.append(link, status, when, remove);
  return item;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}
