"""Browser benchmark: the report page's flamegraph against the bundled speedscope, 1M samples.

    .venv/bin/python benchmarks/browser.py                  # 1,000,000 samples, 3 rounds
    .venv/bin/python benchmarks/browser.py --samples 100000 --repeat 1   # quick run

Writes the synthetic py-spy file of ``benchmarks/ingest.py`` (same generator, same
seed), starts the real app (``flamedeck serve``: gunicorn + job worker, on a fresh data
directory and a free loopback port, the upload limit raised to fit the file) and imports
the file as a report through the API, ``POST /api/v1/reports`` with ``profile=@file``, as
curl would. Then one headless Chromium measures, per round, each page in a fresh browser
context (so nothing comes from the browser's cache):

* navigation -> flamegraph drawn: the ``flamegraph:drawn`` performance mark that
  ``static/js/flamegraph.js`` sets after its first drawing on the report page
  (``/r/<token>``: the page itself, the module, fetching and parsing ``flame.json``;
  each round also prints when the page's HTML and ``flame.json`` were received);
* one click-zoom into the widest frame at depth 3, half a second after the first
  drawing (``flamegraph:zoom`` measure: from the click event to the end of drawing);
* one search typed into the search box (``flamegraph:search`` measure);
* navigation -> speedscope drawn: the first frame label the bundled speedscope paints
  on its canvas, opened as the report page's "Open in speedscope" link does
  (``/speedscope/index.html#profileURL=/r/<token>/profile.speedscope.json``).

Medians over the rounds are printed with the targets: drawn <= 1.5 s, zoom <= 100 ms,
search <= 200 ms, and at least 5 times faster than speedscope. Exit status 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.flamegraph.support import CHROMIUM_ARGS, CHROMIUM_PATH, GRAPH  # noqa: E402  (needs the path above)
from tests.web.live import free_port, serve  # noqa: E402

SAMPLES_DEFAULT = 1_000_000
TARGET_DRAWN_S = 1.5
TARGET_ZOOM_MS = 100.0
TARGET_SEARCH_MS = 200.0
TARGET_SPEEDUP = 5.0
PAGE_TIMEOUT_MS = 180_000  # speedscope needs several seconds for a million samples
IMPORT_TIMEOUT_S = 600  # upload and import of the ~200 MB file; also the server's request limit
UPLOAD_HEADROOM_BYTES = 1024 * 1024  # the multipart envelope around the file
SEARCH_TEXT = "step_1"
SETTLE_MS = 500  # pause after the first drawing, as a person would, before clicking
VIEWPORT = {"width": 1400, "height": 900}
UPLOAD_NAME = "synthetic.speedscope.json"

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


def import_report(base_url: str, source: Path) -> dict:
    """POST the file to the API as ``profile`` (multipart, like ``curl -F profile=@file``); the report's document."""
    boundary = secrets.token_hex(16)
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="profile"; filename="{UPLOAD_NAME}"\r\n'
            "Content-Type: application/json\r\n\r\n").encode()
    body = head + source.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base_url}/api/v1/reports", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=IMPORT_TIMEOUT_S) as response:
        created = json.loads(response.read())
    with urllib.request.urlopen(created["api_url"], timeout=IMPORT_TIMEOUT_S) as response:
        document = json.loads(response.read())
    if document["status"] != "done":
        raise RuntimeError(f"the import did not finish: {document.get('outcome')}")
    return document


def artifact_size_mb(url: str) -> float:
    """Size of one artifact as stored (uncompressed)."""
    with urllib.request.urlopen(url, timeout=IMPORT_TIMEOUT_S) as response:
        return len(response.read()) / 1e6


def measure_flamegraph(browser, url: str) -> dict:
    """Seconds to the first drawing, milliseconds of one zoom and one search, and the root frames' names."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("() => performance.getEntriesByName('flamegraph:drawn').length > 0",
                           timeout=PAGE_TIMEOUT_MS)
    drawn_s = page.evaluate("performance.getEntriesByName('flamegraph:drawn')[0].startTime") / 1000
    # Where the time went: the page's HTML received, flame.json received (then parsed and drawn).
    page_s, flame_json_s = page.evaluate("""() => [
        performance.getEntriesByType('navigation')[0].responseEnd,
        performance.getEntriesByType('resource').find((entry) => entry.name.endsWith('/flame.json')).responseEnd,
    ]""")
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
    context.close()
    if errors:
        raise RuntimeError(f"the report page failed: {errors}")
    return {"drawn_s": drawn_s, "zoom_ms": zoom_ms, "search_ms": search_ms, "matched": matched, "roots": roots,
            "page_s": page_s / 1000, "flame_json_s": flame_json_s / 1000}


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


def measure_speedscope(browser, url: str, prefixes: list[str]) -> float:
    """Seconds from navigation to speedscope's first painted frame label."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(SPEEDSCOPE_PROBE % json.dumps(prefixes))
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


def measure_rounds(report_url: str, speedscope_url: str, repeat: int) -> list[dict]:
    """``repeat`` rounds in one headless Chromium: the report page, then speedscope."""
    from playwright.sync_api import sync_playwright

    rounds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            for number in range(max(repeat, 1)):
                figures = measure_flamegraph(browser, report_url)
                prefixes = sorted({name[:5] for name in figures["roots"]})
                figures["speedscope_s"] = measure_speedscope(browser, speedscope_url, prefixes)
                print(f"round {number + 1}: page received {figures['page_s']:.3f} s, flame.json received "
                      f"{figures['flame_json_s']:.3f} s, flamegraph drawn {figures['drawn_s']:.3f} s, "
                      f"zoom {figures['zoom_ms']:.1f} ms, search {figures['search_ms']:.1f} ms; "
                      f"speedscope drawn {figures['speedscope_s']:.3f} s", flush=True)
                rounds.append(figures)
        finally:
            browser.close()
    return rounds


def main(argv: list[str] | None = None) -> int:
    """Import the synthetic profile into a real server, measure both viewers ``--repeat`` times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=SAMPLES_DEFAULT, help="samples in the synthetic profile")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="flamedeck-browser-bench-") as scratch:
        scratch_dir = Path(scratch)
        scratch_dir.chmod(0o711)  # the server's sandbox user must be able to reach the data directory
        source = scratch_dir / UPLOAD_NAME
        started = time.perf_counter()
        load_generator()(source, args.samples)
        print(f"synthetic py-spy file: {args.samples:,} samples, {source.stat().st_size / 1e6:.0f} MB, "
              f"written in {time.perf_counter() - started:.1f} s", flush=True)
        settings = {"MAX_UPLOAD_BYTES": source.stat().st_size + UPLOAD_HEADROOM_BYTES,
                    "WEB_TIMEOUT_S": IMPORT_TIMEOUT_S}
        with serve(scratch_dir / "data", free_port(), fast=False, log_path=scratch_dir / "serve.log",
                   **settings) as (_process, base_url):
            started = time.perf_counter()
            document = import_report(base_url, source)
            print(f"imported through POST /api/v1/reports in {time.perf_counter() - started:.1f} s "
                  f"(upload, import, statistics, every export, storage): "
                  f"{document['summary']['total_samples']:,} samples", flush=True)
            artifacts = document["artifacts"]
            print(f"flame.json {artifact_size_mb(artifacts['flame.json']):.1f} MB, .speedscope.json "
                  f"{artifact_size_mb(artifacts['profile.speedscope.json']):.1f} MB (uncompressed)", flush=True)
            rounds = measure_rounds(document["url"], document["speedscope_url"], args.repeat)
    return 0 if report(rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
