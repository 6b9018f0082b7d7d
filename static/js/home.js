// The home page's behaviours: the drop zone, the examples' descriptions, this browser's recent
// reports, and the chosen files kept when a refused submission swaps the forms in again.
// Listeners are delegated from the document: the home page is also swapped into a report page
// after Delete (app.js then loads this file). Nothing user-supplied is ever set as HTML.
"use strict";

(function () {
  if (window.flamedeckHome) return; // loaded once per document
  window.flamedeckHome = true;

  var RECENT_KEY = "flamedeck.recentReports";
  var MAX_RECENT = 20; // the newest are kept
  var PENDING = ["queued", "running"];
  var STATUS_LABELS = {
    queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled",
    deleted: "Deleted", gone: "No longer available"
  };
  var REPORT_PATH = /^(\/[A-Za-z0-9._~-]+)*\/r\/[A-Za-z0-9_-]+$/; // e.g. /r/<id>, also under a path prefix
  var HTMX_HISTORY_KEY = "htmx-history-cache"; // where htmx keeps page snapshots for Back

  // ---- Drop zone: a dropped file goes to the form that takes it. ----

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }

  // The whole home page takes drops (a file dropped beside the zone would otherwise open in the tab).
  document.addEventListener("dragover", function (event) {
    var zone = document.getElementById("drop-zone");
    if (!zone || !hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-over");
  });
  document.addEventListener("dragleave", function (event) {
    var zone = document.getElementById("drop-zone");
    if (zone && !event.relatedTarget) zone.classList.remove("is-over");
  });
  document.addEventListener("drop", function (event) {
    var zone = document.getElementById("drop-zone");
    if (!zone || !hasFiles(event)) return;
    event.preventDefault();
    zone.classList.remove("is-over");
    route(Array.prototype.slice.call(event.dataTransfer.files));
  });

  function route(files) {
    if (!files.length) return;
    var project = document.querySelector("input[type=file][name=project]");
    if (files.length > 1) {
      if (project && project.multiple) return choose(project, files, "project");
      return say("Drop one file at a time: a .py script, a project .zip or a profile (.json).", true);
    }
    kindOf(files[0]).then(function (kind) {
      if (kind === "script") return choose(document.getElementById("script"), files, kind);
      if (kind === "profile") return choose(document.getElementById("profile"), files, kind);
      if (kind === "project") {
        if (project) return choose(project, files, kind);
        return say("“" + files[0].name + "” is a project (.zip). Projects are not supported here yet: " +
                   "drop the project's main .py file instead.", true);
      }
      say("“" + files[0].name + "” is neither a .py script, a project .zip nor a profile (.json), " +
          "so it was not used. Drop one of those.", true);
    });
  }

  // By the name first; a name that does not tell is decided by the first bytes.
  function kindOf(file) {
    var name = file.name.toLowerCase();
    if (/\.py$/.test(name)) return Promise.resolve("script");
    if (/\.json$/.test(name)) return Promise.resolve("profile");
    if (/\.zip$/.test(name)) return Promise.resolve("project");
    return file.slice(0, 512).arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4) return "project"; // "PK\3\4"
      var text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, "").trim();
      return text.charAt(0) === "{" ? "profile" : "unknown";
    }, function () { return "unknown"; });
  }

  var FORM_NAMES = { script: "Script", profile: "Import a profile", project: "Script" };

  function choose(input, files, kind) {
    if (!input) return say("This page has no field for that file.", true);
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
    var source = document.getElementById(kind === "project" ? "source-project" : "source-upload");
    if (kind !== "profile" && source) source.checked = true; // show the upload panel of the script form
    input.dispatchEvent(new Event("change", { bubbles: true }));
    var names = files.map(function (file) { return "“" + file.name + "” (" + humanSize(file.size) + ")"; });
    say(names.join(", ") + " chosen in the “" + FORM_NAMES[kind] + "” form. Check the options there, then submit.");
    input.scrollIntoView({ block: "nearest" });
  }

  function say(sentence, isProblem) {
    var status = document.getElementById("drop-status");
    if (!status) return;
    status.textContent = sentence;
    status.classList.toggle("is-problem", !!isProblem);
  }

  function humanSize(bytes) {
    var units = ["bytes", "KiB", "MiB", "GiB"];
    var value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)) + " " + units[unit];
  }

  // ---- Example picker: the chosen example's one line. ----

  document.addEventListener("change", function (event) {
    if (event.target.id !== "example") return;
    var option = event.target.options[event.target.selectedIndex];
    var line = document.getElementById("example-description");
    if (line && option) line.textContent = option.getAttribute("data-description") || "";
  });

  // ---- A refused submission: htmx swaps the forms in again; the chosen files stay chosen. ----

  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    kept = target && target.id === "submit-region" ? snapshot(target) : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = document.getElementById("submit-region");
    if (!kept || !region) return;
    // After a 413 the server could not read the form, so it could not fill the values in again.
    restore(region, kept, event.detail.xhr && event.detail.xhr.status === 413);
    kept = null;
    var invalid = region.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });

  function snapshot(region) {
    var fields = [];
    region.querySelectorAll("input, textarea, select").forEach(function (field) {
      if (!field.id || field.type === "hidden" || field.type === "password") return;
      fields.push({ id: field.id, type: field.type, value: field.value, checked: field.checked,
                    files: field.type === "file" ? Array.prototype.slice.call(field.files) : null });
    });
    return fields;
  }

  function restore(region, fields, values) {
    fields.forEach(function (saved) {
      var field = document.getElementById(saved.id);
      if (!field || !region.contains(field)) return;
      if (saved.type === "file") {
        if (!saved.files.length || field.files.length) return;
        var transfer = new DataTransfer();
        saved.files.forEach(function (file) { transfer.items.add(file); });
        field.files = transfer.files;
      } else if (values) {
        if (saved.type === "checkbox" || saved.type === "radio") field.checked = saved.checked;
        else field.value = saved.value;
      }
    });
  }

  // ---- Recent reports of this browser, kept in its localStorage only. ----

  document.addEventListener("flamedeck:report-created", function (event) {
    var report = event.detail || {};
    if (typeof report.id !== "string" || typeof report.url !== "string") return;
    var reports = readRecent().filter(function (entry) { return entry.id !== report.id; });
    reports.unshift({ id: report.id, url: report.url, title: String(report.title || report.id),
                      status: String(report.status || "queued"), when: Date.now() });
    writeRecent(reports);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-remove-recent]");
    if (!button) return;
    var id = button.getAttribute("data-remove-recent");
    writeRecent(readRecent().filter(function (entry) { return entry.id !== id; }));
    drawRecent();
    var list = document.getElementById("recent-list");
    var next = list && list.querySelector("button[data-remove-recent]");
    if (next) next.focus(); // keep the keyboard where it was, not on the page's top
  });

  function readRecent() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(stored) ? stored.filter(function (entry) {
        return entry && typeof entry.id === "string" && typeof entry.url === "string";
      }) : [];
    } catch (error) {
      return []; // storage blocked or damaged: no list
    }
  }

  function writeRecent(reports) {
    try {
      window.localStorage.setItem(RECENT_KEY, JSON.stringify(reports.slice(0, MAX_RECENT)));
    } catch (error) { /* storage blocked or full: the list is a convenience */ }
  }

  function drawRecent() {
    var section = document.getElementById("recent-reports");
    var list = document.getElementById("recent-list");
    if (!section || !list) return;
    var reports = readRecent();
    list.textContent = "";
    reports.forEach(function (entry) { list.appendChild(recentItem(entry)); });
    section.hidden = reports.length === 0;
  }

  function recentItem(entry) {
    var item = document.createElement("li");
    item.className = "recent-item";
    var link = document.createElement("a");
    // Only a report path on this site is used as a link (the stored list is data, not trusted markup).
    link.href = REPORT_PATH.test(entry.url) ? entry.url : "#";
    link.textContent = entry.title;
    link.className = "recent-title";
    var status = document.createElement("span");
    status.className = "recent-status";
    status.setAttribute("data-status", entry.status);
    status.textContent = STATUS_LABELS[entry.status] || entry.status;
    var when = document.createElement("time");
    var date = new Date(entry.when);
    if (!isNaN(date.getTime())) {
      when.dateTime = date.toISOString();
      when.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
    when.className = "recent-when";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button small recent-remove";
    remove.setAttribute("data-remove-recent", entry.id);
    remove.setAttribute("aria-label", "Remove " + entry.title + " from this list");
    remove.textContent = "Remove";
    [link, status, when, remove].forEach(function (part) { item.appendChild(part); });
    return item;
  }

  // Reports still waiting or running when last seen: ask the API how they are now (few, light requests).
  function refreshPending() {
    var section = document.getElementById("recent-reports");
    var template = section && section.getAttribute("data-api-url");
    if (!template || !window.fetch) return;
    readRecent().forEach(function (entry) {
      if (PENDING.indexOf(entry.status) < 0) return;
      fetch(template.replace("REPORT_ID", encodeURIComponent(entry.id)), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 410) return "deleted";
          if (response.status === 404) return "gone";
          return response.ok ? response.json().then(function (report) { return report.status; }) : null;
        })
        .then(function (status) {
          if (!status || status === entry.status) return;
          writeRecent(readRecent().map(function (other) {
            return other.id === entry.id ? Object.assign({}, other, { status: status }) : other;
          }));
          drawRecent();
        })
        .catch(function () { /* offline: the list shows what it knew */ });
    });
  }

  // ---- After Delete: the report leaves this browser's list and htmx's snapshots for Back. ----

  function forgetDeleted(root) {
    var notice = root.querySelector && root.querySelector("[data-deleted-report]");
    if (!notice) return;
    var id = notice.getAttribute("data-deleted-report");
    var path = notice.getAttribute("data-deleted-url");
    notice.removeAttribute("data-deleted-report"); // once
    writeRecent(readRecent().filter(function (entry) { return entry.id !== id; }));
    try {
      var snapshots = JSON.parse(window.sessionStorage.getItem(HTMX_HISTORY_KEY) || "[]");
      if (Array.isArray(snapshots)) {
        window.sessionStorage.setItem(HTMX_HISTORY_KEY, JSON.stringify(snapshots.filter(function (item) {
          return !item || item.url !== path;
        })));
      }
    } catch (error) { /* no storage: nothing kept there either */ }
  }

  function prepare(root) {
    var zone = document.getElementById("drop-zone");
    if (!zone) return; // not the home page (any more)
    zone.hidden = false;
    forgetDeleted(root || document);
    drawRecent();
    refreshPending();
  }

  document.addEventListener("htmx:afterSettle", function (event) { prepare(event.detail.elt); });
  // Another tab of this browser made or removed a report: show the same list here.
  window.addEventListener("storage", function (event) { if (event.key === RECENT_KEY) drawRecent(); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { prepare(document); });
  } else {
    prepare(document);
  }
})();
