// The zoom path as a row of buttons: each crumb but the last zooms back out to its frame.
// Shared by the single flamegraph (controls.js) and the differential one (compare/).
//
// A path longer than MAX_CRUMBS_SHOWN (deep recursion) shows its first crumb, an ellipsis
// and its last CRUMBS_KEPT_AT_END crumbs, until the ellipsis is pressed. Labels are
// textContent: a frame name never becomes markup.

const MAX_CRUMBS_SHOWN = 5;
const CRUMBS_KEPT_AT_END = 3;

function crumbButton(className, text, attrs) {
  const button = document.createElement("button");
  button.className = className;
  button.textContent = text;
  button.type = "button";
  for (const [name, value] of Object.entries(attrs)) button.setAttribute(name, value);
  return button;
}

/** A trail drawn into ``nav``; returns show(crumbs, onPick), crumbs being [{node, label}] root first. */
export function breadcrumbTrail(nav) {
  let shownKey = "";
  let expanded = false;
  return function show(crumbs, onPick) {
    const key = crumbs.map((c) => c.node).join(",") + "|" + crumbs.map((c) => c.label).join("\u0000");
    if (key === shownKey) return;
    if (shownKey.split("|")[0] !== key.split("|")[0]) expanded = false;  // a new path
    shownKey = key;
    const buttons = crumbs.map((crumb, k) => {
      const button = crumbButton("fg-crumb", crumb.label, { title: crumb.label });
      if (k === crumbs.length - 1) button.setAttribute("aria-current", "true");
      else button.addEventListener("click", () => onPick(crumb.node));
      return button;
    });
    const hidden = buttons.slice(1, buttons.length - CRUMBS_KEPT_AT_END);
    if (expanded || buttons.length <= MAX_CRUMBS_SHOWN) {
      nav.replaceChildren(...buttons);
      return;
    }
    const hiddenLabel = `Show the ${hidden.length} hidden levels`;
    const more = crumbButton("fg-crumb fg-crumb-more", "\u2026",
      { "aria-expanded": "false", title: hiddenLabel, "aria-label": hiddenLabel });
    more.addEventListener("click", () => {
      expanded = true;
      more.replaceWith(...hidden);
      hidden[0].focus();  // keyboard users continue where the ellipsis was
    });
    nav.replaceChildren(buttons[0], more, ...buttons.slice(buttons.length - CRUMBS_KEPT_AT_END));
  };
}
