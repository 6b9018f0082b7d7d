// The flamegraph's DOM: toolbar, breadcrumbs, scrolling canvas, tooltip and legend.
//
// Built with createElement and textContent only, so a frame name can never become
// markup; sizes and positions are set through CSSOM (allowed by a CSP without
// 'unsafe-inline'), everything else lives in flamegraph.css.

import { ORIGIN_LABELS } from "./tree.js";
import { legendColour } from "./palette.js";
import { breadcrumbTrail } from "./breadcrumbs.js";

const TOOLTIP_OFFSET_PX = 14;

/** A new element with a class, text and attributes. */
function make(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function segmented(label, options) {
  const buttons = options.map(([value, text]) =>
    make("button", { text, attrs: { type: "button", value, "aria-pressed": "false" } }));
  return { group: make("div", { className: "fg-segmented", attrs: { role: "group", "aria-label": label } }, buttons), buttons };
}

export function formatCount(n) { return Math.round(n).toLocaleString("en-US"); }

/** "12.3 %" for a share in [0, 1]; small shares keep two decimals. */
export function formatPercent(share) {
  const percent = share * 100;
  if (percent > 0 && percent < 0.01) return "<0.01 %";
  return `${percent.toFixed(percent < 1 ? 2 : 1)} %`;
}

/** Build the flamegraph's DOM in a new root appended to ``host``; returns handles and updaters. */
export function buildControls(host) {
  const element = make("div", { className: "fg" });
  host.append(element);
  const viewSelect = make("select", { className: "fg-view", attrs: { "aria-label": "Threads" } });
  const levels = segmented("Group by", [["function", "Function"], ["line", "Line"]]);
  const orientations = segmented("Orientation", [["flame", "Flame"], ["icicle", "Icicle"]]);
  const search = make("input", { className: "fg-search", attrs: {
    type: "search", placeholder: "Search: text or /regex/", "aria-label": "Search functions and files",
    autocomplete: "off", spellcheck: "false" } });
  const match = make("output", { className: "fg-match", attrs: { "aria-live": "polite" } });
  const toolbar = make("div", { className: "fg-toolbar" }, [
    make("label", { className: "fg-field" }, [make("span", { text: "Threads" }), viewSelect]),
    make("div", { className: "fg-field" }, [make("span", { text: "Group by" }), levels.group]),
    make("div", { className: "fg-field" }, [make("span", { text: "Layout" }), orientations.group]),
    make("div", { className: "fg-field fg-search-field" }, [search, make("kbd", { text: "/" })]),
    match,
  ]);
  const breadcrumbs = make("nav", { className: "fg-breadcrumbs", attrs: { "aria-label": "Zoom path" } });
  const reset = make("button", { className: "fg-reset", text: "Reset zoom", attrs: { type: "button" } });
  // Focusable and walked with the keyboard (graph.js); the selected frame is read out by
  // the live region ``announce`` and shown in the tooltip.
  const canvas = make("canvas", { className: "fg-canvas", attrs: {
    tabindex: "0", role: "application", "aria-roledescription": "flamegraph",
    "aria-label": "Flamegraph. Arrow keys select frames: up the caller, down the heaviest callee, "
      + "left and right its neighbours. Enter zooms into the selected frame, Escape resets the zoom." } });
  const announce = make("p", { className: "fg-announce", attrs: { "aria-live": "polite", "aria-atomic": "true" } });
  const spacer = make("div", { className: "fg-spacer" });
  const viewport = make("div", { className: "fg-viewport" }, [canvas, spacer]);
  const status = make("p", { className: "fg-status", attrs: { role: "status" } });
  const tooltip = make("div", { className: "fg-tooltip", attrs: { role: "tooltip", hidden: "" } });
  const swatches = {};  // key -> element; coloured by paintLegend(theme)
  const legendItem = (key, label, className) => {
    swatches[key] = make("span", { className: "fg-swatch" });
    return make("li", className ? { className } : {}, [swatches[key], make("span", { text: label })]);
  };
  const legend = make("ul", { className: "fg-legend", attrs: { "aria-label": "Colour by origin" } }, [
    ...Object.entries(ORIGIN_LABELS).map(([origin, label]) => legendItem(origin, label)),
    legendItem("match", "search match", "fg-match-key"),
  ]);
  // flamegraph.css shows the hint that fits the device: pointer and keyboard, or touch
  const hint = make("p", { className: "fg-hint" }, [
    make("span", { className: "fg-hint-pointer",
      text: "Click a frame to zoom in \u00b7 double-click or Esc to reset \u00b7 / to search \u00b7 arrow keys walk the frames" }),
    make("span", { className: "fg-hint-touch",
      text: "Tap a frame for its figures \u00b7 tap it again to zoom in \u00b7 Reset zoom to go back" }),
  ]);
  element.replaceChildren(toolbar, make("div", { className: "fg-navbar" }, [breadcrumbs, reset]),
    status, viewport, make("div", { className: "fg-footer" }, [legend, hint]), tooltip, announce);

  const ui = {
    root: element, toolbar, canvas, viewport, spacer, tooltip, viewSelect, search, match, reset, breadcrumbs, status, announce,
    levelButtons: levels.buttons, orientationButtons: orientations.buttons,
    paintLegend(theme) {
      for (const origin of Object.keys(ORIGIN_LABELS)) swatches[origin].style.backgroundColor = legendColour(origin, theme);
      swatches.match.style.backgroundColor = theme.match;
    },
    setStatus(text) { status.textContent = text; status.hidden = !text; },
    setMatch(text, isError) { match.textContent = text; match.classList.toggle("fg-error", isError); },
    fillViews(views) { viewSelect.replaceChildren(...viewOptions(views)); },
    syncControls(state) {
      viewSelect.value = String(state.view);
      for (const b of levels.buttons) b.setAttribute("aria-pressed", String(b.value === state.level));
      for (const b of orientations.buttons) b.setAttribute("aria-pressed", String(b.value === state.orientation));
      element.dataset.orientation = state.orientation;
    },
    setScrollArea(height, contentHeight) {
      viewport.style.height = `${height}px`;
      spacer.style.height = `${Math.max(0, contentHeight - height)}px`;
    },
    /** Show the zoom path (breadcrumbs.js); a long one is collapsed behind an ellipsis button. */
    setBreadcrumbs: breadcrumbTrail(breadcrumbs),
  };
  return ui;
}

function viewOptions(views) {
  const groups = { all: [], process: [], thread: [] };
  views.forEach((view, index) => {
    const option = make("option", { text: `${view.label} \u2014 ${formatCount(view.samples)} samples`, attrs: { value: String(index) } });
    (groups[view.kind] || groups.thread).push(option);
  });
  const result = [...groups.all];
  if (groups.process.length) result.push(make("optgroup", { attrs: { label: "Processes" } }, groups.process));
  if (groups.thread.length) result.push(make("optgroup", { attrs: { label: "Threads" } }, groups.thread));
  return result;
}

/** Fill and place the tooltip near the pointer, kept inside the window. */
export function showTooltip(ui, info, clientX, clientY) {
  const { tooltip } = ui;
  const origin = info.origin ? make("span", { className: `fg-origin fg-origin-${info.origin}`, text: ORIGIN_LABELS[info.origin] || info.origin }) : "";
  tooltip.replaceChildren(
    make("div", { className: "fg-tip-title", text: info.title }),
    ...(info.location ? [make("div", { className: "fg-tip-location" }, [make("span", { text: info.location }), " ", origin])] : []),
    make("div", { className: "fg-tip-figures", text: info.total }),
    make("div", { className: "fg-tip-figures", text: info.self }),
  );
  tooltip.hidden = false;
  const { width, height } = tooltip.getBoundingClientRect();
  let left = clientX + TOOLTIP_OFFSET_PX;
  let top = clientY + TOOLTIP_OFFSET_PX;
  if (left + width > window.innerWidth) left = Math.max(0, clientX - TOOLTIP_OFFSET_PX - width);
  if (top + height > window.innerHeight) top = Math.max(0, clientY - TOOLTIP_OFFSET_PX - height);
  tooltip.style.left = `${left}px`;
  tooltip.style.top = `${top}px`;
}

/** The tooltip under (or above) a frame's box in client coordinates: for touch and keyboard. */
export function showTooltipAt(ui, info, box) {
  const x = box.x + Math.min(box.width / 2, TOOLTIP_OFFSET_PX * 2) - TOOLTIP_OFFSET_PX;
  showTooltip(ui, info, Math.max(0, x), box.y + box.height - TOOLTIP_OFFSET_PX / 2);
}

export function hideTooltip(ui) { ui.tooltip.hidden = true; }
