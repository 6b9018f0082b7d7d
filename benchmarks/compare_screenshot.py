"""The README's compare screenshot: two real runs of an example, before and after an edit.

    .venv/bin/python benchmarks/compare_screenshot.py       # writes static/img/compare-screenshot.png

Starts the real app on a fresh data directory, profiles examples/server_simulation.py through
the API, then the same script with one edit (is_prime skips even divisors) as a run with the
first as its baseline - what "Edit and run again" submits - opens their compare page in
headless Chromium, points at is_prime so the tooltip shows both sides, and saves the page
from its top to the first rows of the function table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.flamegraph.support import CHROMIUM_ARGS, CHROMIUM_PATH  # noqa: E402  (needs the path above)
from tests.web.live import free_port, http_json, serve  # noqa: E402

OUTPUT_DEFAULT = ROOT / "static" / "img" / "compare-screenshot.png"
SCRIPT = ROOT / "examples" / "server_simulation.py"
BEFORE = "    for divisor in range(2, int(n**0.5) + 1):\n"
AFTER = ("    if n % 2 == 0:\n        return n == 2\n"
         "    for divisor in range(3, int(n**0.5) + 1, 2):\n")
RUN_FIELDS = {"duration": "20", "rate": "200", "args": "--runtime 8", "script_name": SCRIPT.name}
WIDTH_PX = 1280
TABLE_ROWS_SHOWN = 6
POINTED_FUNCTION = "is_prime"
REPORT_TIMEOUT_S = 150
PAGE_TIMEOUT_MS = 30_000


def profile(base_url: str, fields: dict[str, str]) -> str:
    """Submit a run through the API and wait for it; the report's id."""
    status, created = http_json("POST", f"{base_url}/api/v1/reports", fields)
    if status != 202:
        raise RuntimeError(f"the server refused the run (HTTP {status}): {created}")
    deadline = time.monotonic() + REPORT_TIMEOUT_S
    while True:
        _status, document = http_json("GET", created["api_url"])
        if document["status"] == "done":
            return document["id"]
        if document["status"] not in ("queued", "running") or time.monotonic() > deadline:
            raise RuntimeError(f"the run did not finish: {document['status']}, {document.get('outcome')}")
        time.sleep(0.5)


def capture(compare_url: str, output: Path) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH_PX, "height": 2000}, device_scale_factor=1)
            page.goto(compare_url)
            page.wait_for_function("document.querySelector('#diffgraph').diffgraph?.boxes?.length > 0",
                                   timeout=PAGE_TIMEOUT_MS)
            bottom = page.evaluate(f"""() => {{
                const rows = document.querySelectorAll('#compare-functions tbody tr');
                return rows[Math.min(rows.length, {TABLE_ROWS_SHOWN}) - 1].getBoundingClientRect().bottom + scrollY;
            }}""")
            centre = page.evaluate("""(name) => {
                const graph = document.querySelector('#diffgraph').diffgraph;
                const box = graph.boxes.find((b) => graph.tree.name(b.node) === name);
                const bounds = graph.canvas.getBoundingClientRect();
                return box && [bounds.left + (box.x + Math.min(box.width / 2, 0.1)) * bounds.width,
                               bounds.top + (box.row + 0.5) * 18];
            }""", POINTED_FUNCTION)
            if centre:
                page.mouse.move(*centre)
            page.screenshot(path=str(output), clip={"x": 0, "y": 0, "width": WIDTH_PX, "height": round(bottom)})
        finally:
            browser.close()
    return output.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT_DEFAULT, help="PNG to write (default %(default)s)")
    args = parser.parse_args(argv)
    source = SCRIPT.read_text()
    if BEFORE not in source:
        raise SystemExit(f"{SCRIPT} changed: the edit this script makes no longer applies.")
    with tempfile.TemporaryDirectory(prefix="flamedeck-screenshot-") as scratch:
        scratch_dir = Path(scratch)
        scratch_dir.chmod(0o711)  # the sandbox user must be able to reach the job directories
        with serve(scratch_dir / "data", free_port(), workers=1, fast=False,
                   log_path=scratch_dir / "serve.log") as (_process, base_url):
            base = profile(base_url, RUN_FIELDS | {"code": source})
            head = profile(base_url, RUN_FIELDS | {"code": source.replace(BEFORE, AFTER), "baseline": base})
            size = capture(f"{base_url}/compare/{base}...{head}", args.output)
    print(f"{args.output}: {size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
