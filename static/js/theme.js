// The colour theme: "light", "dark", or nothing (follow the system's prefers-color-scheme).
//
// Loaded in <head> without defer, before the stylesheets apply, so the remembered theme
// is on <html> before the first paint (no light flash on a dark page). The contract with
// other scripts (the flamegraph's palette): document.documentElement.dataset.theme is
// "dark" | "light" or absent, and every change dispatches "flamedeck:themechange" on the
// document (a toggle, another tab's toggle, or the system's setting while following it). The choice is kept in localStorage, so it holds for every page and tab.
"use strict";

(function () {
  var KEY = "flamedeck.theme";
  var NEXT = { auto: "light", light: "dark", dark: "auto" };
  var LABELS = { auto: "Theme: auto", light: "Theme: light", dark: "Theme: dark" };
  var DESCRIPTIONS = {
    auto: "Colour theme: automatic, follows the system. Activate for light.",
    light: "Colour theme: light. Activate for dark.",
    dark: "Colour theme: dark. Activate to follow the system.",
  };

  function chosen() {
    try {
      var value = localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "auto";
    } catch (error) {
      return "auto";  // storage disabled: follow the system
    }
  }

  function apply(theme) {
    if (theme === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }

  function syncToggles() {
    var theme = current;
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.hidden = false;
      button.textContent = LABELS[theme];
      button.title = DESCRIPTIONS[theme];
      button.dataset.current = theme;
    });
  }

  function announce() {
    document.dispatchEvent(new CustomEvent("flamedeck:themechange"));
  }

  var current = chosen();
  apply(current);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) return;
    current = NEXT[current];
    try {
      if (current === "auto") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, current);
    } catch (error) { /* storage disabled: the choice lasts for this page only */ }
    apply(current);
    syncToggles();
    announce();
  });

  // Another tab changed the theme.
  window.addEventListener("storage", function (event) {
    if (event.key !== KEY && event.key !== null) return;
    current = chosen();
    apply(current);
    syncToggles();
    announce();
  });

  // Following the system, a change of the system's setting changes the theme too.
  if (window.matchMedia) {
    var system = window.matchMedia("(prefers-color-scheme: dark)");
    var onSystemChange = function () { if (current === "auto") announce(); };
    if (system.addEventListener) system.addEventListener("change", onSystemChange);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", syncToggles);
  else syncToggles();
})();
