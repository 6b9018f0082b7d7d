"""Browser benchmark: the report page's flamegraph against the bundled speedscope, and the
comparison of two runs (``benchmarks/compare.py``), 1M samples each, in one run.

    .venv/bin/python benchmarks/browser.py                  # 1,000,000 samples, 3 rounds
    .venv/bin/python benchmarks/browser.py --samples 100000 --repeat 1   # quick run
    .venv/bin/python benchmarks/browser.py --samples 5000000 --repeat 1 --skip-compare --skip-speedscope

Writes the synthetic py-spy file of ``benchmarks/ingest.py`` (same generator, same
seed) and a second run of the same program (see ``benchmarks/compare.py``), starts the
real app (``flamedeck serve``: gunicorn with one web process + job worker, on a fresh
data directory and a free loopback port, the upload limit raised to fit the files) and
imports both as reports through the API, ``POST /api/v1/reports`` with ``profile=@file``,
as curl would, waiting for the worker to finish each. Then one headless Chromium
measures, per round, each page in a fresh browser context (so nothing comes from the
browser's cache):

* navigation -> flamegraph drawn: the ``flamegraph:drawn`` performance mark that
  ``static/js/flamegraph/graph.js`` sets after its first drawing on the report page
  (``/r/<token>``: the page itself, the module, fetching and parsing ``flame.json``;
  each round also prints when the page's HTML and ``flame.json`` were received);
* one click-zoom into the widest frame at depth 3, half a second after the first
  drawing (``flamegraph:zoom`` measure: from the click event to the end of drawing);
* one search typed into the search box (``flamegraph:search`` measure);
* navigation -> speedscope drawn: the first frame label the bundled speedscope paints
  on its canvas, opened as the report page's "Open in speedscope" link does
  (``/speedscope/index.html#profileURL=/r/<token>/profile.speedscope.json``); when its
  tab crashes or draws nothing in time, that is printed and not tried again;
* the comparison of the two reports: ``benchmarks/compare.py``'s figures.

Medians over the rounds are printed with the targets: drawn <= 1.5 s (<= 2 s above 1M
samples, issue 11's 5M target), zoom <= 100 ms, search <= 200 ms, at least 5 times faster
than speedscope (judged only when speedscope drew), compare API <= 1 s and navigation ->
diff flamegraph drawn <= 2 s. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.flamegraph.support import CHROMIUM_ARGS, CHROMIUM_PATH, GRAPH  # noqa: E402  (needs the path above)
from benchmarks import compare  # noqa: E402
from benchmarks.live_app import (  # noqa: E402
    IMPORT_TIMEOUT_S, VIEWPORT, TimedPage, import_report, write_synthetic)
from tests.web.live import free_port, serve  # noqa: E402

SAMPLES_DEFAULT = 1_000_000
TARGET_DRAWN_S = 1.5
TARGET_DRAWN_BIG_S = 2.0  # issue 11: the report page of a 5M-sample profile (above SAMPLES_DEFAULT)
TARGET_ZOOM_MS = 100.0
TARGET_SEARCH_MS = 200.0
TARGET_SPEEDUP = 5.0
UPLOAD_HEADROOM_BYTES = 1024 * 1024  # the multipart envelope around the file
SEARCH_TEXT = "step_1"
SETTLE_MS = 500  # pause after the first drawing, as a person would, before clicking
UPLOAD_NAME = "synthetic.speedscope.json"

# speedscope draws frame names with fillText on a 2D canvas: note when the first one is painted.
SPEEDSCOPE_PROBE = """
(() => {
  const prefixes = %s;
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  let labelled = false;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    if (!labelled && typeof text === "string" && prefixes.some((p) => text.startsWith(p))) {
      labelled = true;
      performance.mark("speedscope:label");
    }
    return fillText.call(this, text, ...rest);
  };
})();
"""


def artifact_size_mb(url: str) -> float:
    """Size of one artifact as stored (uncompressed)."""
    with urllib.request.urlopen(url, timeout=IMPORT_TIMEOUT_S) as response:
        return len(response.read()) / 1e6


def measure_flamegraph(browser, url: str) -> dict:
    """Seconds to the first drawing, milliseconds of one zoom and one search, and the root frames' names."""
    with TimedPage(browser, url, "flamegraph:drawn") as timed:
        page = timed.page
        # Where the time went: the page's HTML received, flame.json received (then parsed and drawn).
        page_s, flame_json_s = timed.received_s("/flame.json")
        page.wait_for_timeout(SETTLE_MS)
        page.evaluate("document.getElementById('flamegraph').scrollIntoView()")
        x, y = widest_frame_centre(page, depth=3)
        page.mouse.click(x, y)
        zoom_ms = page.evaluate("performance.getEntriesByName('flamegraph:zoom', 'measure').at(-1).duration")
        page.locator("#flamegraph .fg-search").fill(SEARCH_TEXT)
        search_ms = page.evaluate("performance.getEntriesByName('flamegraph:search', 'measure').at(-1).duration")
        matched = page.locator("#flamegraph .fg-match").text_content()
        roots = page.evaluate(f"""() => {{
            const graph = {GRAPH}, tree = graph.data.tree(0, 'function'), scene = graph.scene();
            const names = [];
            for (let i = 1; i < tree.n; i++) if (tree.depth[i] === 1) names.push(scene.labelOf(i));
            return names;
        }}""")
    return {"drawn_s": timed.drawn_s, "zoom_ms": zoom_ms, "search_ms": search_ms, "matched": matched,
            "roots": roots, "page_s": page_s, "flame_json_s": flame_json_s}


def widest_frame_centre(page, depth: int) -> tuple[float, float]:
    """Window coordinates of the middle of the widest frame at ``depth``, scrolled into the window."""
    locate = f"""() => {{
        const graph = {GRAPH}, tree = graph.tree, scene = graph.scene();
        let widest = -1;
        for (let i = 1; i < tree.n; i++) {{
            if (tree.depth[i] === {depth} && (widest < 0 || tree.total[i] > tree.total[widest])) widest = i;
        }}
        return graph.locate(scene.labelOf(widest));
    }}"""
    box = page.evaluate(locate)
    if not 0 <= box["y"] < VIEWPORT["height"] - box["height"]:
        page.evaluate("(dy) => window.scrollBy(0, dy)", box["y"] - VIEWPORT["height"] / 2)
        box = page.evaluate(locate)
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def measure_speedscope(browser, url: str, prefixes: list[str]) -> float | str:
    """Seconds from navigation to speedscope's first painted frame label, or why it drew none
    (on big files its tab runs out of memory, or takes longer than PAGE_TIMEOUT_MS)."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        with TimedPage(browser, url, "speedscope:label", SPEEDSCOPE_PROBE % json.dumps(prefixes)) as timed:
            return timed.drawn_s
    except PlaywrightError as error:
        return str(error).splitlines()[0]


def report(rounds: list[dict], samples: int) -> bool:
    """Print the medians against the targets; True when every target is met."""
    target_drawn_s = TARGET_DRAWN_S if samples <= SAMPLES_DEFAULT else TARGET_DRAWN_BIG_S
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    drawn, zoom, search = median("drawn_s"), median("zoom_ms"), median("search_ms")
    rows = [
        ("navigation -> flamegraph drawn", f"{drawn:.3f} s", f"<= {target_drawn_s} s", drawn <= target_drawn_s),
        ("click-zoom", f"{zoom:.1f} ms", f"<= {TARGET_ZOOM_MS:.0f} ms", zoom <= TARGET_ZOOM_MS),
        (f"search {SEARCH_TEXT!r}", f"{search:.1f} ms", f"<= {TARGET_SEARCH_MS:.0f} ms", search <= TARGET_SEARCH_MS),
    ]
    drew = [r["speedscope_s"] for r in rounds if isinstance(r.get("speedscope_s"), float)]
    if drew:
        speedscope = statistics.median(drew)
        speedup = speedscope / drawn
        rows += [("navigation -> speedscope drawn", f"{speedscope:.3f} s", "", True),
                 ("speedscope / flamegraph", f"{speedup:.1f} x", f">= {TARGET_SPEEDUP:.0f} x",
                  speedup >= TARGET_SPEEDUP)]
    else:  # not judged: there is no figure to compare with
        failures = {r["speedscope_s"] for r in rounds if "speedscope_s" in r} or {"not measured (--skip-speedscope)"}
        print("speedscope drew nothing: " + "; ".join(sorted(failures)))
    print(f"\nmedians of {len(rounds)} round(s) ({rounds[-1]['matched']} for the search):")
    for label, value, target, met in rows:
        print(f"  {label:<34} {value:>10}   {target:<10} {'' if not target else ('met' if met else 'NOT met')}")
    return all(met for *_, met in rows)


def measure_rounds(browser, report_url: str, speedscope_url: str | None, repeat: int) -> list[dict]:
    """``repeat`` rounds: the report page, then speedscope (unless its URL is None, or it failed once)."""
    rounds = []
    for number in range(max(repeat, 1)):
        figures = measure_flamegraph(browser, report_url)
        print(f"round {number + 1}: page received {figures['page_s']:.3f} s, flame.json received "
              f"{figures['flame_json_s']:.3f} s, flamegraph drawn {figures['drawn_s']:.3f} s, "
              f"zoom {figures['zoom_ms']:.1f} ms, search {figures['search_ms']:.1f} ms", flush=True)
        if speedscope_url is not None:
            prefixes = sorted({name[:5] for name in figures["roots"]})
            figures["speedscope_s"] = measure_speedscope(browser, speedscope_url, prefixes)
            if isinstance(figures["speedscope_s"], str):
                print(f"  speedscope drew nothing ({figures['speedscope_s']}): not tried again", flush=True)
                speedscope_url = None
            else:
                print(f"  speedscope drawn {figures['speedscope_s']:.3f} s", flush=True)
        rounds.append(figures)
    return rounds


def main(argv: list[str] | None = None) -> int:
    """Import the synthetic profile (and its changed second run) into a real server, measure
    the report page and speedscope, then the comparison, ``--repeat`` times each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=SAMPLES_DEFAULT, help="samples in the synthetic profile")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--skip-compare", action="store_true", help="no second profile, no compare figures")
    parser.add_argument("--skip-speedscope", action="store_true", help="do not open the profile in speedscope "
                        "(on 5M samples its tab runs out of memory)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="flamedeck-browser-bench-") as scratch:
        scratch_dir = Path(scratch)
        scratch_dir.chmod(0o711)  # the server's sandbox user must be able to reach the data directory
        sources = {"base": scratch_dir / UPLOAD_NAME}
        if not args.skip_compare:
            sources["head"] = scratch_dir / f"changed.{UPLOAD_NAME}"
        for side, source in sources.items():
            started = time.perf_counter()
            write_synthetic(source, args.samples, change=compare.change_for_head if side == "head" else None)
            print(f"synthetic py-spy file ({side}): {args.samples:,} samples, {source.stat().st_size / 1e6:.0f} MB, "
                  f"written in {time.perf_counter() - started:.1f} s", flush=True)
        settings = {"MAX_UPLOAD_BYTES": max(s.stat().st_size for s in sources.values()) + UPLOAD_HEADROOM_BYTES,
                    "WEB_TIMEOUT_S": IMPORT_TIMEOUT_S, "WEB_PROCESSES": 1}
        data_dir = scratch_dir / "data"
        with serve(data_dir, free_port(), fast=False, log_path=scratch_dir / "serve.log",
                   **settings) as (_process, base_url):
            documents = {side: timed_import(base_url, source, side) for side, source in sources.items()}
            artifacts = documents["base"]["artifacts"]
            print(f"flame.json {artifact_size_mb(artifacts['flame.json']):.1f} MB, .speedscope.json "
                  f"{artifact_size_mb(artifacts['profile.speedscope.json']):.1f} MB (uncompressed)", flush=True)
            with chromium() as browser:
                rounds = measure_rounds(browser, documents["base"]["url"],
                                        None if args.skip_speedscope else documents["base"]["speedscope_url"],
                                        args.repeat)
                if not args.skip_compare:
                    ids = documents["base"]["id"], documents["head"]["id"]
                    warm = compare.measure(browser, base_url, *ids, args.repeat, "warm: first call, then kept")
        if not args.skip_compare:
            # The same data, a server that keeps nothing in memory: every request is a first one.
            with serve(data_dir, free_port(), fast=False, log_path=scratch_dir / "serve-cold.log",
                       **settings, REPORT_CACHE_BYTES=0) as (_process, base_url), chromium() as browser:
                cold = compare.measure(browser, base_url, *ids, args.repeat, "cold")
    met = report(rounds, args.samples)
    if not args.skip_compare:
        # The warm server's first API call and first page computed the pair: they are cold figures.
        warm_kept = {"api_s": warm["api_s"][1:] or warm["api_s"], "pages": warm["pages"][1:] or warm["pages"]}
        met = compare.report(cold, warm_kept) and met
    return 0 if met else 1


def timed_import(base_url: str, source: Path, side: str) -> dict:
    started = time.perf_counter()
    document = import_report(base_url, source, UPLOAD_NAME)
    print(f"{side} imported through POST /api/v1/reports in {time.perf_counter() - started:.1f} s "
          f"(upload, import, statistics, every export, storage): "
          f"{document['summary']['total_samples']:,} samples", flush=True)
    return document


@contextmanager
def chromium():
    """One headless Chromium for all the rounds."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
