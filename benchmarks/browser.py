"""Browser benchmark: the in-page flamegraph against the bundled speedscope, 1M samples.

    .venv/bin/python benchmarks/browser.py                  # 1,000,000 samples, 3 rounds
    .venv/bin/python benchmarks/browser.py --samples 100000 --repeat 1   # quick run

Builds the synthetic py-spy file of ``benchmarks/ingest.py`` (same generator, same
seed), imports it with ``load_profile``, renders ``flame.json`` and
``.speedscope.json`` with the real exporters, serves them on 127.0.0.1, and in one
headless Chromium measures, per round, each page in a fresh browser context:

* navigation -> flamegraph drawn: the ``flamegraph:drawn`` performance mark that
  ``static/js/flamegraph.js`` sets after its first drawing (fetch and parse included);
* one click-zoom into the widest frame at depth 3, half a second after the first
  drawing (``flamegraph:zoom`` measure: from the click event to the end of drawing);
* one search typed into the search box (``flamegraph:search`` measure);
* navigation -> speedscope drawn: the first frame label speedscope paints on its
  canvas (``static/vendor/speedscope/index.html#profileURL=...``).

Medians over the rounds are printed with the targets: drawn <= 1.5 s, zoom <= 100 ms,
search <= 200 ms, and at least 5 times faster than speedscope. Exit status 1 when a
target is missed.

The flamegraph page is the flamegraph tests' harness (a report-like page with the
module, under the app's Content-Security-Policy), not the web app's report page:
this benchmark was written before the app served ``flame.json``. Both are static
files on the same loopback server, so the comparison with speedscope is like for like.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.flamegraph.support import CHROMIUM_ARGS, CHROMIUM_PATH, Harness  # noqa: E402  (needs the path above)
from webapp.profiles import load_profile  # noqa: E402
from webapp.profiles.exporters.flame_tree import FlameTreeExporter  # noqa: E402
from webapp.profiles.exporters.speedscope import SpeedscopeExporter  # noqa: E402

SAMPLES_DEFAULT = 1_000_000
TARGET_DRAWN_S = 1.5
TARGET_ZOOM_MS = 100.0
TARGET_SEARCH_MS = 200.0
TARGET_SPEEDUP = 5.0
PAGE_TIMEOUT_MS = 180_000  # speedscope needs several seconds for a million samples
SEARCH_TEXT = "step_1"
SETTLE_MS = 500  # pause after the first drawing, as a person would, before clicking
VIEWPORT = {"width": 1400, "height": 900}
GRAPH = "document.getElementById('flamegraph').flamegraph"

# speedscope draws frame names with fillText on a 2D canvas: note when the first one is painted.
SPEEDSCOPE_PROBE = """
(() => {
  const prefixes = %s;
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    if (window.__frameLabelAt === undefined && typeof text === "string" && prefixes.some((p) => text.startsWith(p))) {
      window.__frameLabelAt = performance.now();
    }
    return fillText.call(this, text, ...rest);
  };
})();
"""


def load_generator():
    """``write_pyspy_file(path, samples)`` from benchmarks/ingest.py."""
    spec = importlib.util.spec_from_file_location("ingest_benchmark", ROOT / "benchmarks" / "ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_pyspy_file


def build_artifacts(samples: int, scratch: Path) -> tuple[bytes, bytes, list[str]]:
    """flame.json, .speedscope.json and label prefixes of the top frames, for ``samples``."""
    source = scratch / "synthetic.pyspy.json"
    started = time.perf_counter()
    load_generator()(source, samples)
    profile = load_profile(source.read_bytes(), source.name)
    flame_json = FlameTreeExporter().render(profile)
    speedscope_json = SpeedscopeExporter().render(profile)
    print(f"profile: {profile.sample_count:,} samples, {len(profile.stacks):,} distinct stacks, "
          f"{len(profile.frames):,} frames; built in {time.perf_counter() - started:.1f} s")
    print(f"flame.json {len(flame_json) / 1e6:.1f} MB, .speedscope.json {len(speedscope_json) / 1e6:.1f} MB")
    roots = {profile.frames[stack[0]].name for stack in profile.stacks if stack}
    return flame_json, speedscope_json, sorted({name[:5] for name in roots})


def measure_flamegraph(browser, url: str) -> dict:
    """Seconds to the first drawing, and milliseconds of one zoom and one search."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("() => performance.getEntriesByName('flamegraph:drawn').length > 0",
                           timeout=PAGE_TIMEOUT_MS)
    drawn_s = page.evaluate("performance.getEntriesByName('flamegraph:drawn')[0].startTime") / 1000
    page.wait_for_timeout(SETTLE_MS)
    box = page.evaluate(f"""() => {{
        const graph = {GRAPH}, tree = graph.tree, scene = graph.scene();
        let widest = -1;
        for (let i = 1; i < tree.n; i++) {{
            if (tree.depth[i] === 3 && (widest < 0 || tree.total[i] > tree.total[widest])) widest = i;
        }}
        return graph.locate(scene.labelOf(widest));
    }}""")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    zoom_ms = page.evaluate("performance.getEntriesByName('flamegraph:zoom', 'measure').at(-1).duration")
    page.locator("#flamegraph .fg-search").fill(SEARCH_TEXT)
    search_ms = page.evaluate("performance.getEntriesByName('flamegraph:search', 'measure').at(-1).duration")
    matched = page.locator("#flamegraph .fg-match").text_content()
    context.close()
    if errors:
        raise RuntimeError(f"the flamegraph page failed: {errors}")
    return {"drawn_s": drawn_s, "zoom_ms": zoom_ms, "search_ms": search_ms, "matched": matched}


def measure_speedscope(browser, url: str, prefixes: list[str]) -> float:
    """Seconds from navigation to speedscope's first painted frame label."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(SPEEDSCOPE_PROBE % prefixes)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("() => window.__frameLabelAt !== undefined", timeout=PAGE_TIMEOUT_MS)
    drawn_s = page.evaluate("window.__frameLabelAt") / 1000
    context.close()
    if errors:
        raise RuntimeError(f"speedscope failed: {errors}")
    return drawn_s


def report(rounds: list[dict]) -> bool:
    """Print the medians against the targets; True when every target is met."""
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    drawn, zoom, search, speedscope = median("drawn_s"), median("zoom_ms"), median("search_ms"), median("speedscope_s")
    speedup = speedscope / drawn
    rows = [
        ("navigation -> flamegraph drawn", f"{drawn:.3f} s", f"<= {TARGET_DRAWN_S} s", drawn <= TARGET_DRAWN_S),
        ("click-zoom", f"{zoom:.1f} ms", f"<= {TARGET_ZOOM_MS:.0f} ms", zoom <= TARGET_ZOOM_MS),
        (f"search {SEARCH_TEXT!r}", f"{search:.1f} ms", f"<= {TARGET_SEARCH_MS:.0f} ms", search <= TARGET_SEARCH_MS),
        ("navigation -> speedscope drawn", f"{speedscope:.3f} s", "", True),
        ("speedscope / flamegraph", f"{speedup:.1f} x", f">= {TARGET_SPEEDUP:.0f} x", speedup >= TARGET_SPEEDUP),
    ]
    print(f"\nmedians of {len(rounds)} round(s) ({rounds[-1]['matched']} for the search):")
    for label, value, target, met in rows:
        print(f"  {label:<34} {value:>10}   {target:<10} {'' if not target else ('met' if met else 'NOT met')}")
    return all(met for *_, met in rows)


def main(argv: list[str] | None = None) -> int:
    """Build the artifacts, measure both viewers ``--repeat`` times, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=SAMPLES_DEFAULT, help="samples in the synthetic profile")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="flamedeck-browser-bench-") as scratch:
        flame_json, speedscope_json, prefixes = build_artifacts(args.samples, Path(scratch))
        site = Path(scratch) / "site"
        site.mkdir()
        served = Harness(site)
        try:
            flamegraph_url = served.add_page("synthetic", flame_json)
            profile_url = served.add_file("synthetic.speedscope.json", speedscope_json)
            speedscope_url = f"{served.base_url}/static/vendor/speedscope/index.html#profileURL={profile_url}"
            rounds = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
                try:
                    for number in range(max(args.repeat, 1)):
                        figures = measure_flamegraph(browser, flamegraph_url)
                        figures["speedscope_s"] = measure_speedscope(browser, speedscope_url, prefixes)
                        print(f"round {number + 1}: flamegraph drawn {figures['drawn_s']:.3f} s, "
                              f"zoom {figures['zoom_ms']:.1f} ms, search {figures['search_ms']:.1f} ms; "
                              f"speedscope drawn {figures['speedscope_s']:.3f} s")
                        rounds.append(figures)
                finally:
                    browser.close()
        finally:
            served.close()
    return 0 if report(rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
