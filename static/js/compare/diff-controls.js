// The differential flamegraph's DOM: toggles, thread picker, search, zoom path, legend,
// canvas, tooltip and the screen readers' read-out. Built with createElement and
// textContent only; the zoom path, search and read-out use the single flamegraph's classes
// (flamegraph.css) and its breadcrumb trail, so both graphs look and behave alike.

import { breadcrumbTrail } from "../flamegraph/breadcrumbs.js";

export function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function radioGroup(legend, name, choices, checked) {
  const fieldset = make("fieldset", "diff-toggle");
  fieldset.append(make("legend", "", legend));
  for (const [value, label] of choices) {
    const wrapper = make("label");
    const input = make("input");
    Object.assign(input, { type: "radio", name, value, checked: value === checked });
    wrapper.append(input, document.createTextNode(" " + label));
    fieldset.append(wrapper);
  }
  return fieldset;
}

/** Build the graph's DOM in ``element`` (after its words legend, if any); returns the handles. */
export function buildDiffControls(element, views) {
  const ui = {};
  const controls = make("div", "diff-controls");
  ui.widthToggle = radioGroup("Widths from", "diff-widths", [["head", "head run"], ["base", "base run"]], "head");
  ui.normaliseToggle = radioGroup("Normalise by", "diff-normalise",
    [["share", "share of samples"], ["time", "time (samples × interval)"]], "share");
  ui.levelToggle = radioGroup("Group by", "diff-level", [["function", "function"], ["line", "line"]], "function");
  controls.append(ui.widthToggle, ui.normaliseToggle, ui.levelToggle);
  if (views.length > 1) {
    const label = make("label", "diff-thread", "Thread ");
    ui.threadSelect = make("select");
    views.forEach((view, index) => ui.threadSelect.append(new Option(view.label, String(index))));
    label.append(ui.threadSelect);
    controls.append(label);
  }
  ui.searchBox = make("input", "diff-search");
  Object.assign(ui.searchBox, { type: "search", placeholder: "Search: text or /regex/", autocomplete: "off", spellcheck: false });
  ui.searchBox.setAttribute("aria-label", "Search functions and files");
  ui.matched = make("output", "fg-match diff-matched");
  ui.matched.setAttribute("aria-live", "polite");
  controls.append(ui.searchBox, ui.matched);
  ui.levelStatus = make("p", "muted diff-level-status");
  ui.levelStatus.hidden = true;

  ui.breadcrumbs = make("nav", "fg-breadcrumbs diff-breadcrumbs");
  ui.breadcrumbs.setAttribute("aria-label", "Zoom path");
  ui.showBreadcrumbs = breadcrumbTrail(ui.breadcrumbs);
  ui.resetButton = make("button", "button small diff-reset", "Reset zoom");
  ui.resetButton.type = "button";
  const navbar = make("div", "diff-navbar");
  navbar.append(ui.breadcrumbs, ui.resetButton);

  ui.legend = make("div", "diff-legend");
  ui.legendLow = make("span", "diff-legend-low");
  ui.legendHigh = make("span", "diff-legend-high");
  ui.legendOnly = make("span", "diff-legend-only muted");
  ui.legend.append(ui.legendLow, make("span", "diff-legend-bar"), ui.legendHigh, ui.legendOnly);

  // Focusable and walked with the keyboard; the selected frame is read out by ``announce``.
  ui.canvas = make("canvas", "diff-canvas");
  ui.canvas.tabIndex = 0;
  ui.canvas.setAttribute("role", "application");
  ui.canvas.setAttribute("aria-roledescription", "differential flamegraph");
  ui.canvas.setAttribute("aria-label", "Differential flamegraph: red frames take more time in head than in base, "
    + "blue frames less. Arrow keys select frames: up the caller, down the heaviest callee, left and right its "
    + "neighbours. Enter zooms into the selected frame, Escape resets the zoom.");
  ui.announce = make("p", "fg-announce diff-announce");
  ui.announce.setAttribute("aria-live", "polite");
  ui.announce.setAttribute("aria-atomic", "true");
  ui.tooltip = make("div", "diff-tooltip");
  ui.tooltip.hidden = true;

  const words = element.querySelector(".diff-legend-words");
  if (words) words.after(controls, ui.levelStatus, ui.legend);
  else element.append(controls, ui.levelStatus, ui.legend);
  element.append(navbar, ui.canvas, ui.tooltip, ui.announce);
  return ui;
}
