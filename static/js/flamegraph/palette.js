// Colours: a warm flame palette per origin, one stable shade per function.
//
// A function's shade comes from a hash of its name and file, so the same function
// has the same colour in every view, thread and zoom, and neighbours rarely match.

const ORIGIN_PALETTES = {
  // hue range (degrees), saturation (%), lightness range (%)
  "script":        { hue: [6, 30],    sat: 86, light: [55, 63] },
  "stdlib":        { hue: [40, 54],   sat: 88, light: [54, 62] },
  "site-packages": { hue: [334, 352], sat: 66, light: [66, 73] },
  "native":        { hue: [22, 34],   sat: 14, light: [66, 74] },
};
export const MATCH_COLOUR = "hsl(268, 72%, 58%)";
export const MATCH_TEXT_COLOUR = "#ffffff";
export const TEXT_COLOUR = "#1f1a17";
export const DIM_TEXT_COLOUR = "#6f6a66";
export const ROOT_COLOUR = "hsl(24, 10%, 78%)";

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

/** The colour of a function and its faded twin (used for non-matches and ancestors). */
export function functionColours(name, file, origin) {
  const palette = ORIGIN_PALETTES[origin] || ORIGIN_PALETTES.native;
  const hash = hash32(name + "\u0000" + file);
  const h1 = (hash & 0xffff) / 65536;
  const h2 = (hash >>> 16) / 65536;
  const hue = Math.round(pick(palette.hue, h1)) % 360;
  const light = Math.round(pick(palette.light, h2));
  return {
    fill: `hsl(${hue}, ${palette.sat}%, ${light}%)`,
    faded: `hsl(${hue}, ${Math.round(palette.sat * 0.22)}%, ${Math.min(light + 14, 90)}%)`,
  };
}

/** The swatch colour shown in the legend for an origin. */
export function legendColour(origin) {
  const palette = ORIGIN_PALETTES[origin] || ORIGIN_PALETTES.native;
  return `hsl(${Math.round(pick(palette.hue, 0.5))}, ${palette.sat}%, ${Math.round(pick(palette.light, 0.5))}%)`;
}
