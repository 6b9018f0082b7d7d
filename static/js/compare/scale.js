// The diverging colour scale of the differential flamegraph: blue (less time in head) through
// near-white (no change) to red (more time in head). The stops are ColorBrewer's RdBu, which
// stays readable with the common colour-vision deficiencies; webapp/analysis/diff_svg.py uses
// the same end points for the SVG download.

const STOPS = [
  [33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [239, 138, 98], [178, 24, 43],
];

/** The fill for ``change`` on a scale saturating at ``limit`` (both in the same unit). */
export function changeColour(change, limit) {
  const share = limit > 0 ? Math.max(-1, Math.min(1, change / limit)) : 0;
  const position = (share + 1) / 2 * (STOPS.length - 1);
  const low = Math.min(Math.floor(position), STOPS.length - 2);
  const weight = position - low;
  const rgb = STOPS[low].map((value, i) => Math.round(value + (STOPS[low + 1][i] - value) * weight));
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

/** A change as the legend and tooltip say it: points of all samples, or time. */
export function formatChange(change, mode) {
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  const size = Math.abs(change);
  if (mode === "time") return `${sign}${formatSeconds(size)}`;
  return `${sign}${size.toFixed(size >= 10 ? 0 : size >= 1 ? 1 : 2)} points`;
}

export function formatSeconds(seconds) {
  if (seconds >= 1) return `${seconds.toFixed(2)} s`;
  return `${(seconds * 1000).toFixed(seconds >= 0.01 ? 0 : 1)} ms`;
}

export function formatPercent(part, whole) {
  return whole ? `${(100 * part / whole).toFixed(1)} %` : "0 %";
}
