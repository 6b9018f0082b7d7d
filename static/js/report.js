// The report page's tables, kept in step with the flamegraph, and the page's history.
//
// * The hot-functions and complexity tables show the thread (or process) picked in the
//   flamegraph's Threads menu: their figures are worked out here from the same flame.json
//   the flamegraph draws (its format is described in webapp/profiles/exporters/flame_tree.py),
//   with the server's counting rules (webapp/analysis/stats.py): self goes to the innermost
//   frame, total once per sample to every function on the stack.
// * A row of the Threads table (click, or Enter) picks that thread.
// * htmx keeps a copy of the page for Back/Forward; the flamegraph is taken out of the page
//   first, so a restored page mounts one fresh graph (not a second one under a dead copy
//   whose CSSOM sizes would come back as inline styles the CSP refuses); the one-time
//   delete-token notice is left out of that copy too.
// * After a form submission the new report is scrolled to, its delete-token notice in view.
//
// Names from the profile reach the page as textContent only, never as HTML.
import { displayFile } from "./flamegraph/locations.js";

(function () {
  var documents = {};  // flame.json URL -> Promise of the parsed document
  var originals = new WeakMap();  // table -> its server-rendered rows (all threads)

  function flameSection() { return document.querySelector("#flamegraph[data-flame-url]:not([data-flame-url=''])"); }

  function flameDocument(url) {
    if (!documents[url]) {
      documents[url] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
      documents[url].catch(function () { delete documents[url]; });
    }
    return documents[url];
  }

  // -- figures of one view ---------------------------------------------------------------
  /** Per function (name, file): self and total samples of ``view``, by the server's rules. */
  function functionFigures(doc, view) {
    var tree = doc.trees["function"];
    var depth = tree.depth, frame = tree.frame, n = depth.length;
    var self = new Float64Array(n);
    view["function"].node.forEach(function (node, k) { self[node] += view["function"].self[k]; });
    var parent = new Int32Array(n);
    var open = [];
    for (var i = 0; i < n; i++) {
      while (open.length && depth[open[open.length - 1]] >= depth[i]) open.pop();
      parent[i] = open.length ? open[open.length - 1] : -1;
      open.push(i);
    }
    var total = Float64Array.from(self);
    for (var j = n - 1; j > 0; j--) total[parent[j]] += total[j];

    var names = doc.frames.name, fileOf = doc.frames.file, lines = doc.frames.line;
    var defined = doc.frames.defined || [];
    var figures = new Map();
    var path = [];             // keys of the nodes from the root down to the current one
    var onPath = new Map();    // key -> how often it is on that path (recursion)
    open = [];
    for (var node = 1; node < n; node++) {
      while (open.length && depth[open[open.length - 1]] >= depth[node]) {
        open.pop();
        var gone = path.pop();
        onPath.set(gone, onPath.get(gone) - 1);
      }
      var f = frame[node];
      var file = doc.files[fileOf[f]] || "";
      var key = names[f] + "\u0000" + file;
      var entry = figures.get(key);
      if (!entry) {
        entry = { name: names[f], file: file, line: lines[f], defined: !!defined[f], self: 0, total: 0 };
        figures.set(key, entry);
      }
      entry.self += self[node];
      if (!onPath.get(key)) entry.total += total[node];  // a recursive call counts once
      open.push(node);
      path.push(key);
      onPath.set(key, (onPath.get(key) || 0) + 1);
    }
    var samples = view.samples || 0;
    figures.forEach(function (entry) {
      entry.selfPercent = samples ? 100 * entry.self / samples : 0;
      entry.totalPercent = samples ? 100 * entry.total / samples : 0;
    });
    return figures;
  }

  // -- the tables --------------------------------------------------------------------------
  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function count(n) { return Math.round(n).toLocaleString("en-US"); }

  function barCell(percent) {
    var cell = make("td", "num bar-cell");
    cell.dataset.value = String(percent);
    var meter = make("meter");
    meter.min = 0;
    meter.max = 100;
    meter.value = percent;
    cell.append(meter, make("span", "", percent.toFixed(1)));
    return cell;
  }

  function setBar(cell, percent) {
    cell.dataset.value = String(percent);
    var meter = cell.querySelector("meter");
    if (meter) meter.value = percent;
    var label = cell.querySelector("span");
    if (label) label.textContent = percent.toFixed(1);
  }

  function remember(table) {
    if (table && !originals.has(table)) {
      originals.set(table, Array.prototype.map.call(table.tBodies[0].rows, function (row) { return row.cloneNode(true); }));
    }
  }

  function restore(table) {
    if (table && originals.has(table)) {
      table.tBodies[0].replaceChildren.apply(table.tBodies[0], originals.get(table).map(function (row) { return row.cloneNode(true); }));
    }
  }

  /** Whether the source view shows ``file`` (the script, or one of a project's files). */
  function shownInSource(file) {
    return Array.prototype.some.call(document.querySelectorAll("#source table[data-file]"), function (table) {
      return table.dataset.file === file;
    });
  }

  function hotRow(entry, rank, scriptName) {
    var row = make("tr");
    row.dataset.flameName = entry.name;
    row.dataset.flameFile = entry.file;
    if (entry.line && entry.defined && shownInSource(entry.file)) row.dataset.sourceLine = String(entry.line);
    row.tabIndex = 0;
    var rankCell = make("td", "muted col-rank", String(rank));
    rankCell.dataset.value = String(rank);
    var name = make("td", "fn-name");
    name.title = entry.name;
    name.append(make("code", "", entry.name));
    var where = displayFile(entry.file, scriptName) + (entry.line ? ":" + entry.line : "");
    var location = make("td", "location");
    location.title = entry.file + (entry.line ? ":" + entry.line : "");
    location.append(make("span", "location-path", where));
    if (entry.line && !entry.defined) {
      var note = make("small", "muted first-sampled", "first sampled line");
      note.title = "flamedeck has no source for this file, so this is the first line sampled in the function, not the line it is defined on";
      location.append(" ", note);
    }
    var selfCount = make("td", "num col-count", count(entry.self));
    selfCount.dataset.value = String(entry.self);
    var totalCount = make("td", "num col-count", count(entry.total));
    totalCount.dataset.value = String(entry.total);
    row.append(rankCell, name, location, selfCount, barCell(entry.selfPercent), totalCount, barCell(entry.totalPercent));
    return row;
  }

  function resetSortMarks(table) {
    table.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
    var self = table.querySelector("th:nth-child(5)");
    if (self && table.id === "hot-functions") self.setAttribute("aria-sort", "descending");
  }

  /** Show the figures of ``view`` (an entry of flame.json's views) in every table. */
  function showView(doc, view) {
    var hot = document.getElementById("hot-functions");
    var complexity = document.getElementById("complexity");
    var section = flameSection();
    var scriptName = section ? section.dataset.scriptFile : "";
    remember(hot);
    remember(complexity);
    // The flamegraph's transforms apply to the tables too: their figures then come from its tree.
    var graph = section && section.flamegraph;
    var transformed = graph && graph.tableFigures ? graph.tableFigures() : null;
    var all = view.id === "all" && !transformed;
    var figures = all ? null : transformed || functionFigures(doc, view);
    if (hot) {
      var shown = [];
      if (all) restore(hot);
      else {
        var limit = Number(hot.dataset.rows) || 50;
        var entries = Array.from(figures.values()).filter(function (e) { return e.total > 0; });
        entries.sort(function (a, b) {
          return b.self - a.self || b.total - a.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
            (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
        });
        shown = entries.slice(0, limit);
        hot.tBodies[0].replaceChildren.apply(hot.tBodies[0], shown.map(function (e, k) { return hotRow(e, k + 1, scriptName); }));
      }
      resetSortMarks(hot);
      describeScope(hot.closest("section"), view, all ? null : { listed: shown.length, functions: entries.length, transformed: !!transformed });
    }
    if (complexity) {
      restore(complexity);
      if (!all) {
        Array.prototype.forEach.call(complexity.tBodies[0].rows, function (row) {
          var entry = row.dataset.flameName !== undefined ?
            figures.get(row.dataset.flameName + "\u0000" + row.dataset.flameFile) : null;
          setBar(row.cells[4], entry ? entry.selfPercent : 0);
          setBar(row.cells[5], entry ? entry.totalPercent : 0);
        });
      }
    }
    document.querySelectorAll("#threads tbody tr[data-flame-view]").forEach(function (row) {
      if (row.dataset.flameView === view.id) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
  }

  function describeScope(section, view, counts) {
    if (!section) return;
    var scope = section.querySelector("[data-table-scope]");
    var totals = section.querySelector("[data-table-totals]");
    var note = section.querySelector("[data-table-note]");
    if (!originals.has(section)) {
      originals.set(section, {
        scope: scope ? Array.from(scope.childNodes, function (n) { return n.cloneNode(true); }) : [],
        totals: totals ? totals.textContent : "", note: note ? note.textContent : "",
      });
    }
    var saved = originals.get(section);
    if (!counts) {
      if (scope) scope.replaceChildren.apply(scope, saved.scope.map(function (n) { return n.cloneNode(true); }));
      if (totals) totals.textContent = saved.totals;
      if (note) note.textContent = saved.note;
      if (note) note.hidden = false;
      return;
    }
    var kind = view.kind === "process" ? "process " : "thread ";
    if (scope && counts.transformed) {
      scope.replaceChildren("Figures of ", make("strong", "", view.label), " with the flamegraph's transforms (turn them off to see the profile as recorded).");
    } else if (scope) scope.replaceChildren("Figures of " + kind, make("strong", "", view.label), " only; pick All threads in the flamegraph to see every thread.");
    if (totals) totals.textContent = count(view.samples) + " samples \u00b7 " + counts.functions + " functions \u00b7 " + view.label;
    if (note) {
      var more = counts.functions - counts.listed;
      note.textContent = more + " more function" + (more === 1 ? " with less self time is" : "s with less self time are") +
        " not listed here; the downloads and the API have them all.";
      note.hidden = more <= 0;
    }
  }

  function follow(index) {
    var section = flameSection();
    if (!section) return;
    flameDocument(section.dataset.flameUrl).then(function (doc) {
      var view = doc.views[index];
      if (view) showView(doc, view);
    }, function () { /* the flamegraph says why it could not load */ });
  }

  // The flamegraph's transforms: the tables follow them (showView asks the graph for its figures).
  function followGraph(event) {
    var graph = event.target && event.target.flamegraph;
    if (graph && graph.state && (event.type === "flamegraph:transforms" || graph.tableFigures())) follow(graph.state.view);
  }
  document.addEventListener("flamegraph:transforms", followGraph);
  document.addEventListener("flamegraph:ready", followGraph);  // a link's view may have transforms on

  // The flamegraph's Threads menu.
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("#flamegraph select");
    if (select && select.classList.contains("fg-view")) follow(Number(select.value));
  });

  // A Threads-table row picks its thread, in the flamegraph's menu and so in the tables.
  function pickThread(row) {
    var section = flameSection();
    if (!section) return;
    flameDocument(section.dataset.flameUrl).then(function (doc) {
      var index = doc.views.findIndex(function (view) { return view.id === row.dataset.flameView; });
      if (index < 0) return;
      var select = section.querySelector("select.fg-view");
      if (select && select.querySelector("option[value='" + index + "']")) {
        select.value = String(index);
        select.dispatchEvent(new Event("change", { bubbles: true }));
      } else {
        showView(doc, doc.views[index]);
      }
      section.scrollIntoView({ behavior: "smooth", block: "start" });
    });
  }
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#threads tr[data-flame-view]");
    if (row) pickThread(row);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var row = event.target.closest && event.target.closest("#threads tr[data-flame-view]");
    if (row && row === event.target) {
      event.preventDefault();
      pickThread(row);
    }
  });

  // -- history and submission --------------------------------------------------------------
  document.addEventListener("htmx:beforeHistorySave", function () {
    // The copy htmx keeps must be the page as the server sent it: all threads, no graph.
    ["hot-functions", "complexity"].forEach(function (id) { restore(document.getElementById(id)); });
    var hot = document.getElementById("hot-functions");
    if (hot) describeScope(hot.closest("section"), { id: "all" }, null);
    document.querySelectorAll("[data-flame-url]").forEach(function (element) {
      if (element.flamegraph) element.flamegraph.destroy();
    });
    // The source view's heat bars are sized through CSSOM; in the copy they would come back as
    // style attributes, which the CSP refuses. The restored page paints them again.
    document.querySelectorAll("#source [style]").forEach(function (element) { element.removeAttribute("style"); });
    // The delete token is shown once: it does not come back with Back/Forward (nor sit in
    // the tab's session storage, where htmx keeps its copies).
    document.querySelectorAll(".delete-token-notice").forEach(function (notice) { notice.remove(); });
    // Sizes our scripts set (heat bars, canvases) are inline styles, which the CSP forbids in
    // markup: left in the copy, each would be a violation when Back/Forward restores it.
    document.body.querySelectorAll("[style]").forEach(function (element) { element.removeAttribute("style"); });
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var notice = document.querySelector("#main > .delete-token-notice");
    if (!notice || event.detail.target !== document.getElementById("main")) return;
    // A new report replaced the form: start reading at its top, the delete token in view.
    notice.tabIndex = -1;
    notice.focus({ preventScroll: true });
    document.getElementById("main").scrollIntoView({ block: "start" });
  });
})();
