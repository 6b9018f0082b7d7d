// Colours: a warm flame palette per origin, one stable shade per function, per theme.
//
// A function's shade comes from a hash of its name and file, so the same function
// has the same colour in every view, thread and zoom, and neighbours rarely match.
// The palette itself comes from CSS custom properties (flamegraph.css defines a light
// and a dark set), so the canvas follows the page's theme like the rest of the page;
// LIGHT_THEME is the fallback and what the standalone SVG uses (svg.py mirrors it).

export const LIGHT_THEME = {
  // per origin: hue range (degrees), saturation (%), lightness range (%)
  origins: {
    "script":        { hue: [6, 30],    sat: 86, light: [55, 63] },
    "stdlib":        { hue: [40, 54],   sat: 88, light: [54, 62] },
    "site-packages": { hue: [334, 352], sat: 66, light: [66, 73] },
    "native":        { hue: [22, 34],   sat: 14, light: [66, 74] },
  },
  // frames that do not match a search, and ancestors of the zoomed frame: the function's hue,
  // washed out far past the "native / unknown" grey so the two are never confused
  dimmed: { sat: 12, light: 93 },
  match: "hsl(268, 72%, 58%)",
  matchText: "#ffffff",
  text: "#1f1a17",
  dimText: "#5c5652",
  root: "hsl(24, 10%, 78%)",
  focus: "#1f1a17",
};

/** The custom property naming each colour of a theme; origins are "--fg-frame-<origin>". */
const COLOUR_PROPERTIES = {
  match: "--fg-frame-match", matchText: "--fg-frame-match-text", text: "--fg-frame-text",
  dimText: "--fg-frame-dimmed-text", root: "--fg-frame-root", focus: "--fg-frame-focus",
};

/**
 * The theme in force at ``element``: its --fg-frame-* custom properties, each falling back
 * to LIGHT_THEME when absent. An origin reads "hue-low hue-high saturation light-low light-high",
 * the dimmed set "saturation lightness".
 */
export function readTheme(element) {
  const style = getComputedStyle(element);
  const read = (name) => style.getPropertyValue(name).trim();
  const numbers = (name, count) => {
    const values = read(name).split(/\s+/).map(Number);
    return values.length === count && values.every(Number.isFinite) ? values : null;
  };
  const theme = { origins: {} };
  for (const [origin, fallback] of Object.entries(LIGHT_THEME.origins)) {
    const values = numbers(`--fg-frame-${origin}`, 5);
    theme.origins[origin] = values
      ? { hue: [values[0], values[1]], sat: values[2], light: [values[3], values[4]] }
      : fallback;
  }
  const dimmed = numbers("--fg-frame-dimmed", 2);
  theme.dimmed = dimmed ? { sat: dimmed[0], light: dimmed[1] } : LIGHT_THEME.dimmed;
  for (const [key, property] of Object.entries(COLOUR_PROPERTIES)) theme[key] = read(property) || LIGHT_THEME[key];
  return theme;
}

/** A well-mixed 32-bit hash of ``text``: FNV-1a over UTF-16 code units, then murmur3's finaliser. */
function hash32(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function pick([low, high], t) { return low + (high - low) * t; }

/** The colour of a function and its dimmed twin (used for non-matches and ancestors). */
export function functionColours(name, file, origin, theme = LIGHT_THEME) {
  const palette = theme.origins[origin] || theme.origins.native;
  const hash = hash32(name + "\u0000" + file);
  const h1 = (hash & 0xffff) / 65536;
  const h2 = (hash >>> 16) / 65536;
  const hue = Math.round(pick(palette.hue, h1)) % 360;
  const light = Math.round(pick(palette.light, h2));
  return {
    fill: `hsl(${hue}, ${palette.sat}%, ${light}%)`,
    faded: `hsl(${hue}, ${theme.dimmed.sat}%, ${theme.dimmed.light}%)`,
  };
}

/** The swatch colour shown in the legend for an origin. */
export function legendColour(origin, theme = LIGHT_THEME) {
  const palette = theme.origins[origin] || theme.origins.native;
  return `hsl(${Math.round(pick(palette.hue, 0.5))}, ${palette.sat}%, ${Math.round(pick(palette.light, 0.5))}%)`;
}
