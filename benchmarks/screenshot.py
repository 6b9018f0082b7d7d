"""The README's screenshots: a real report of examples/server_simulation.py with its flamegraph,
in the light and the dark theme.

    .venv/bin/python benchmarks/screenshot.py            # writes static/img/report-screenshot{,-dark}.png
    .venv/bin/python benchmarks/screenshot.py --output /tmp/shot.png   # and /tmp/shot-dark.png

Starts the real app (``flamedeck serve`` on a fresh data directory and a free loopback
port), profiles the example through the API as a user's upload would be (sandbox, py-spy,
worker), opens the finished report in headless Chromium at 1280 px wide, points at the
hottest frame so the tooltip shows, and saves the page from its top down to the first rows
of the hot-functions table: header, downloads, flamegraph, the top of the tables.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.flamegraph.support import CHROMIUM_ARGS, CHROMIUM_PATH, GRAPH  # noqa: E402  (needs the path above)
from tests.web.live import free_port, http_json, serve  # noqa: E402

OUTPUT_DEFAULT = ROOT / "static" / "img" / "report-screenshot.png"
EXAMPLE = "server_simulation"
PROFILE_FIELDS = {"example": EXAMPLE, "duration": "10", "rate": "200", "args": "--runtime 3", "coverage": "on"}
WIDTH_PX = 1280
FIRST_HEIGHT_PX = 900  # before the page's height is known
TABLE_ROWS_SHOWN = 6  # hot-functions rows below the flamegraph; the picture ends at the last one
POINTED_FUNCTION = "is_prime"  # the tooltip shows over this frame (the hottest function)
REPORT_TIMEOUT_S = 60
POLL_S = 0.5
PAGE_TIMEOUT_MS = 30_000
MAX_PNG_BYTES = 400 * 1024  # the README's image stays light


def profile_example(base_url: str) -> str:
    """Submit the example through the API and wait for it; the report page's URL."""
    status, created = http_json("POST", f"{base_url}/api/v1/reports", PROFILE_FIELDS)
    if status != 202:
        raise RuntimeError(f"the server refused the example (HTTP {status}): {created}")
    deadline = time.monotonic() + REPORT_TIMEOUT_S
    while True:
        _status, document = http_json("GET", created["api_url"])
        if document["status"] == "done":
            return document["url"]
        if document["status"] not in ("queued", "running") or time.monotonic() > deadline:
            raise RuntimeError(f"the example did not finish: {document['status']}, {document.get('outcome')}")
        time.sleep(POLL_S)


def bottom_of_table_rows(page) -> float:
    """Page y of the bottom edge of the last hot-functions row to show."""
    return page.evaluate(f"""() => {{
        const rows = document.querySelectorAll('#hot-functions tbody tr');
        const last = rows[Math.min(rows.length, {TABLE_ROWS_SHOWN}) - 1];
        return last.getBoundingClientRect().bottom + window.scrollY;
    }}""")


def point_at(page, label: str) -> None:
    """Move the pointer over the frame labelled ``label`` (the tooltip follows)."""
    box = page.evaluate(f"(label) => {GRAPH}.locate(label)", label)
    if box is None:
        raise RuntimeError(f"{label} is not drawn in the flamegraph")
    page.mouse.move(box["x"] + min(box["width"] / 2, 120), box["y"] + box["height"] / 2)


def capture(report_url: str, output: Path, color_scheme: str = "light") -> int:
    """Save the top of the report page, as a browser set to ``color_scheme`` shows it, to ``output``;
    its size in bytes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH_PX, "height": FIRST_HEIGHT_PX}, device_scale_factor=1,
                                    color_scheme=color_scheme)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(report_url)
            page.wait_for_function("() => performance.getEntriesByName('flamegraph:drawn').length > 0",
                                   timeout=PAGE_TIMEOUT_MS)
            # A window as tall as the picture, so that everything in it is laid out and pointable.
            height = round(bottom_of_table_rows(page))
            page.set_viewport_size({"width": WIDTH_PX, "height": height})
            page.wait_for_timeout(200)  # the flamegraph redraws at the next animation frame
            height = round(bottom_of_table_rows(page))
            point_at(page, POINTED_FUNCTION)
            page.screenshot(path=str(output), clip={"x": 0, "y": 0, "width": WIDTH_PX, "height": height})
            if errors:
                raise RuntimeError(f"the report page failed: {errors}")
        finally:
            browser.close()
    return output.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """Profile the example on a fresh server and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT_DEFAULT, help="PNG to write (default %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flamedeck-screenshot-") as scratch:
        scratch_dir = Path(scratch)
        scratch_dir.chmod(0o711)  # the sandbox user must be able to reach the job directories
        with serve(scratch_dir / "data", free_port(), workers=1, fast=False,
                   log_path=scratch_dir / "serve.log") as (_process, base_url):
            report_url = profile_example(base_url)
            outputs = {"light": args.output, "dark": args.output.with_name(f"{args.output.stem}-dark.png")}
            sizes = {output: capture(report_url, output, scheme) for scheme, output in outputs.items()}
    for output, size in sizes.items():
        print(f"{output}: {WIDTH_PX} px wide, {size / 1024:.0f} KB")
    if max(sizes.values()) > MAX_PNG_BYTES:
        print(f"A screenshot is larger than {MAX_PNG_BYTES // 1024} KB; show fewer table rows "
              "(TABLE_ROWS_SHOWN) or a smaller profile.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
