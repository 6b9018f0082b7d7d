"""The README's source-view screenshot: examples/server_simulation.py with the heat on its lines.

    .venv/bin/python benchmarks/source_screenshot.py      # writes static/img/source-screenshot.png

Profiles the example on a fresh real server as benchmarks/screenshot.py does, opens the report
in headless Chromium, scrolls the source view to the hottest function and saves that section.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.screenshot import CHROMIUM_ARGS, CHROMIUM_PATH, PAGE_TIMEOUT_MS, profile_example  # noqa: E402
from tests.web.live import free_port, serve  # noqa: E402

OUTPUT_DEFAULT = ROOT / "static" / "img" / "source-screenshot.png"
WIDTH_PX, HEIGHT_PX = 1100, 1000
SHOWN_FROM = "is_prime"  # the source view is scrolled to this function's header


def capture(report_url: str, output: Path) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH_PX, "height": HEIGHT_PX}, device_scale_factor=1)
            page.goto(report_url)
            page.wait_for_function("() => performance.getEntriesByName('flamegraph:drawn').length > 0",
                                   timeout=PAGE_TIMEOUT_MS)
            page.evaluate("""(name) => {
                const header = [...document.querySelectorAll('#source tr.src-fn')]
                    .find((row) => row.textContent.includes(name));
                const wrap = document.querySelector('#source .src-wrap');
                wrap.scrollTop = header.offsetTop;
                document.getElementById('source').scrollIntoView();
            }""", SHOWN_FROM)
            page.locator("#source").screenshot(path=str(output))
        finally:
            browser.close()
    return output.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT_DEFAULT, help="PNG to write (default %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flamedeck-screenshot-") as scratch:
        scratch_dir = Path(scratch)
        scratch_dir.chmod(0o711)  # the sandbox user must be able to reach the job directories
        with serve(scratch_dir / "data", free_port(), workers=1, fast=False,
                   log_path=scratch_dir / "serve.log") as (_process, base_url):
            size = capture(profile_example(base_url), args.output)
    print(f"{args.output}: {size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
