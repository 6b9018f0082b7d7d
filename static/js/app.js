// Small behaviours of the flamedeck pages. Loaded as a file (the CSP forbids inline
// scripts); listeners are delegated from the document so that content swapped in by
// htmx works without re-binding.
"use strict";

(function () {
  // Copy-link buttons: <button data-copy="URL">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var original = button.textContent;
    copyText(button.getAttribute("data-copy")).then(
      function () { flash(button, "Copied!", original); },
      function () { flash(button, "Copy failed", original); }
    );
  });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain-http deployments have no clipboard API: fall back to a selected text field.
    return new Promise(function (resolve, reject) {
      var field = document.createElement("textarea");
      field.value = text;
      field.setAttribute("readonly", "");
      field.className = "offscreen";
      document.body.appendChild(field);
      field.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(field);
      (ok ? resolve : reject)();
    });
  }

  function flash(button, message, original) {
    button.textContent = message;
    setTimeout(function () { button.textContent = original; }, 1500);
  }

  // Sortable tables: <table class="sortable"> with <th data-sort="number|text">;
  // a cell's data-value (if any) is what is compared.
  document.addEventListener("click", function (event) {
    var header = event.target.closest("table.sortable th[data-sort]");
    if (header) sortBy(header);
  });
  document.addEventListener("keydown", function (event) {
    var header = event.target.closest && event.target.closest("table.sortable th[data-sort]");
    if (header && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      sortBy(header);
    }
  });

  function sortBy(header) {
    var table = header.closest("table");
    var body = table.tBodies[0];
    var column = Array.prototype.indexOf.call(header.parentNode.children, header);
    var numeric = header.getAttribute("data-sort") === "number";
    // First click on a number column sorts biggest first: that is what people look for.
    var current = header.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : numeric;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a.cells[column], numeric);
      var y = cellValue(b.cells[column], numeric);
      var order = numeric ? x - y : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(header.parentNode.children, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function cellValue(cell, numeric) {
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    return numeric ? parseFloat(raw) || 0 : raw.toLowerCase();
  }

  // Make sortable headers reachable from the keyboard.
  function prepareHeaders(root) {
    root.querySelectorAll("table.sortable th[data-sort]").forEach(function (th) { th.tabIndex = 0; });
  }

  // The home page's module (drop zone, recent reports): the home page links it, but after Delete
  // the home page is swapped into a report page, which does not; htmx runs no swapped-in scripts.
  // A module runs once per page, however often it is added (also when the page links it already).
  var homeScript = document.currentScript && document.currentScript.src.replace(/app\.js(\?.*)?$/, "home.js");
  function loadHomeScript() {
    if (!homeScript || !document.getElementById("drop-zone")) return;
    if (document.querySelector("script[data-home-script]")) return;
    var script = document.createElement("script");
    script.type = "module";
    script.src = homeScript;
    script.setAttribute("data-home-script", "");
    document.head.appendChild(script);
  }

  // Tell other scripts (e.g. the flamegraph) that new report content is in the page,
  // both on first load and whenever htmx swaps a region in.
  function announce(root) {
    prepareHeaders(root);
    loadHomeScript();
    document.dispatchEvent(new CustomEvent("flamedeck:content", { detail: { root: root } }));
  }
  document.addEventListener("DOMContentLoaded", function () { announce(document); });
  document.addEventListener("htmx:afterSettle", function (event) { announce(event.detail.elt || document); });
})();
