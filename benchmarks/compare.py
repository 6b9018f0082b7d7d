"""The compare half of the browser benchmark: a second run of the synthetic program, and the
comparison of the two timed through the API and in the browser.

``benchmarks/browser.py`` runs it in the same run as the report-page figures (``--skip-compare``
leaves it out). The second file is ``benchmarks/ingest.py``'s program run again after a change:
the same threads and call graph, where a few functions got slower (their stacks are sampled
more often), a few got faster (sampled less often), and some call paths were rewritten (a share
of the distinct stacks end in new calls instead; the old ones are gone), with the same number of
samples. Timed, each with a fresh request or browser context:

* ``GET /api/v1/compare/<base>/<head>``: the JSON document (function table, verdict), wall time;
* navigation to the compare page (``/compare/<base>...<head>``) until the differential
  flamegraph's first drawing, the ``diffgraph:drawn`` mark set by
  ``static/js/compare/diffgraph.js`` (the page, its module, ``diff-preview.json`` - or
  ``diff.json`` when it comes first - fetched and drawn); and until the full tree is in use
  (``diffgraph:complete``: zoom, search and threads need it), printed, not judged.

Each web process computes a pair's table and diff tree once and keeps them in memory. So both
are timed twice: cold, on a server started on the same data with ``REPORT_CACHE_BYTES=0`` (every
request is then a first one, what a visitor meets after a restart), and warm, on the server
that already answered them. The targets (API <= 1 s, drawn <= 2 s) are judged on the cold figures.
"""

from __future__ import annotations

import random
import statistics
import time
import urllib.request
from bisect import bisect_right
from collections import Counter

from benchmarks.live_app import IMPORT_TIMEOUT_S, TimedPage

TARGET_API_S = 1.0
TARGET_DRAWN_S = 2.0
HEAD_SEED = 20_240_602
CHANGED_FUNCTIONS = 8  # per thread: this many functions got slower, as many faster
CHANGED_SHARE = (0.005, 0.05)  # ... chosen among those on this share of a thread's distinct stacks
SLOWER_EXTRA = 0.6  # a sample in a slower function is taken once more with this probability
FASTER_DROP = 0.4  # a sample in a faster function is left out with this probability
REWRITTEN_SHARE = 0.05  # share of a thread's distinct stacks whose end became new calls
NEW_CALLS = (2, 6)  # new calls at the end of a rewritten stack, fewest and most


def change_for_head(thread: int, pool: list[tuple[int, ...]], sequence: list[int],
                    first: list[int]) -> tuple[list[tuple[int, ...]], list[int]]:
    """One thread of the second run: its distinct stacks (some new) and its samples (as many as before)."""
    rng = random.Random(HEAD_SEED + thread)

    def function_of(frame: int) -> int:
        return bisect_right(first, frame) - 1

    functions_of = [frozenset(map(function_of, stack)) for stack in pool]
    on_stacks = Counter(function for functions in functions_of for function in functions)
    low, high = (share * len(pool) for share in CHANGED_SHARE)
    candidates = sorted(function for function, count in on_stacks.items() if low <= count <= high)
    changed = rng.sample(candidates, min(2 * CHANGED_FUNCTIONS, len(candidates)))
    slower, faster = set(changed[:CHANGED_FUNCTIONS]), set(changed[CHANGED_FUNCTIONS:])

    rewritten = {}  # a pool position -> the position of its new stack
    known = set(pool)
    for position in rng.sample(range(len(pool)), int(REWRITTEN_SHARE * len(pool))):
        stack = pool[position]
        kept = stack[:rng.randrange(max(len(stack) // 2, 1), len(stack))]
        calls = rng.randint(*NEW_CALLS)
        new = kept + tuple(first[rng.randrange(len(first))] for _ in range(calls))
        if new not in known:
            known.add(new)
            rewritten[position] = len(pool)
            pool.append(new)
            functions_of.append(frozenset(map(function_of, new)))

    weight = [1 + (SLOWER_EXTRA if functions & slower else 0) - (FASTER_DROP if functions & faster else 0)
              for functions in functions_of]
    changed_samples = []
    draw = rng.random
    for position in sequence:
        position = rewritten.get(position, position)
        copies = int(weight[position]) + (draw() < weight[position] % 1)
        changed_samples.extend([position] * copies)
    # As many samples as the first run, spread over the whole run (a longer run sampled the same).
    kept_count, total = len(sequence), len(changed_samples)
    return pool, [changed_samples[i * total // kept_count] for i in range(kept_count)]


def time_api(url: str, rounds: int) -> tuple[list[float], bytes]:
    """Wall seconds of ``rounds`` fresh GETs of ``url`` (answer read to the end), and the last answer."""
    seconds, body = [], b""
    for _ in range(max(rounds, 1)):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=IMPORT_TIMEOUT_S) as response:
            body = response.read()
        seconds.append(time.perf_counter() - started)
    return seconds, body


def measure_diffgraph(browser, url: str) -> dict:
    """Seconds from navigation to the differential flamegraph's first drawing, and where they went;
    then until the full tree is in use (zoom, search, threads), when the first drawing was the preview."""
    with TimedPage(browser, url, "diffgraph:drawn") as timed:
        page = timed.page
        page.wait_for_function("() => !document.querySelector('#diffgraph').diffgraph.tree.preview",
                               timeout=IMPORT_TIMEOUT_S * 1000)
        figures = page.evaluate("""() => {
            const received = (suffix) => {
                const entry = performance.getEntriesByType('resource').find((e) => e.name.split('?')[0].endsWith(suffix));
                return entry ? entry.responseEnd / 1000 : null;
            };
            const complete = performance.getEntriesByName('diffgraph:complete')[0];
            const graph = document.querySelector('#diffgraph').diffgraph;
            return {page_s: performance.getEntriesByType('navigation')[0].responseEnd / 1000,
                    preview_s: received('/diff-preview.json'), diff_json_s: received('/diff.json'),
                    complete_s: complete ? complete.startTime / 1000 : null, boxes: graph.boxes.length};
        }""")
    figures["drawn_s"] = timed.drawn_s
    figures["complete_s"] = figures["complete_s"] or timed.drawn_s  # drawn from the full tree at once
    return figures


def measure(browser, base_url: str, base_id: str, head_id: str, rounds: int, label: str) -> dict:
    """The API ``rounds`` times, then the page ``rounds`` times, each printed; the raw figures."""
    api_s, body = time_api(f"{base_url}/api/v1/compare/{base_id}/{head_id}", rounds)
    print(f"compare API ({label}): " + ", ".join(f"{s:.3f}" for s in api_s) + f" s ({len(body) / 1e6:.1f} MB)",
          flush=True)
    pages = []
    for number in range(max(rounds, 1)):
        figures = measure_diffgraph(browser, f"{base_url}/compare/{base_id}...{head_id}")
        preview = f"{figures['preview_s']:.3f} s" if figures["preview_s"] is not None else "not used"
        print(f"compare page ({label}) round {number + 1}: page received {figures['page_s']:.3f} s, preview "
              f"received {preview}, diff flamegraph drawn {figures['drawn_s']:.3f} s ({figures['boxes']:,} frames "
              f"drawn); diff.json received {figures['diff_json_s']:.3f} s, full tree in use "
              f"{figures['complete_s']:.3f} s", flush=True)
        pages.append(figures)
    return {"api_s": api_s, "pages": pages}


def report(cold: dict, warm: dict) -> bool:
    """Print medians against the targets (judged cold); True when both are met."""
    api_cold, api_warm = statistics.median(cold["api_s"]), statistics.median(warm["api_s"])
    drawn_cold = statistics.median(page["drawn_s"] for page in cold["pages"])
    drawn_warm = statistics.median(page["drawn_s"] for page in warm["pages"])
    complete_cold = statistics.median(page["complete_s"] for page in cold["pages"])
    rows = [
        ("compare API, first call", f"{api_cold:.3f} s", f"<= {TARGET_API_S:g} s", api_cold <= TARGET_API_S),
        ("compare API, kept in memory", f"{api_warm:.3f} s", "", None),
        ("navigation -> diff drawn, first", f"{drawn_cold:.3f} s", f"<= {TARGET_DRAWN_S:g} s",
         drawn_cold <= TARGET_DRAWN_S),
        ("navigation -> diff drawn, kept", f"{drawn_warm:.3f} s", "", None),
        ("navigation -> full tree in use, first", f"{complete_cold:.3f} s", "", None),
    ]
    print(f"\ncompare, medians of {len(cold['api_s'])} cold and {len(warm['api_s'])} warm round(s):")
    for label, value, target, met in rows:
        print(f"  {label:<34} {value:>10}   {target:<10} {'' if met is None else ('met' if met else 'NOT met')}")
    return all(met for *_, met in rows if met is not None)
