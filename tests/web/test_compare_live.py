"""The compare page in real Chromium and `flamedeck compare` against a real server.

One real ``flamedeck serve`` for the module; the two reports are stored in its database the
way a worker stores them (tests/web/compare_support.py: in MainThread, hot 20 % -> 40 %,
gone 50 % -> 0, fresh 0 -> 30 %, steady 30 % -> 30 %; a "worker" thread as busy as MainThread,
so over all threads every share is half that; the head run twice as long as the base run).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from flamegraph.conftest import PageProblems, save_screenshot  # tests/ is on sys.path under pytest
from flamegraph.support import VIEWPORT

from .compare_support import store_pair
from .conftest import make_app
from .live import PROJECT_ROOT, free_port, serve

pytestmark = pytest.mark.slow

SIGNATURE = """() => {
    const canvas = document.querySelector('#diffgraph canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 4) sum = (sum * 31 + pixels[i] + 7 * pixels[i + 1] + 13 * pixels[i + 2]) % 1000000007;
    return [canvas.width, canvas.height, sum];
}"""
# Window coordinates of the middle of the drawn frame called ``name`` (null when not drawn).
FRAME_CENTRE = """(name) => {
    const graph = document.querySelector('#diffgraph').diffgraph;
    const box = graph.boxes.find((b) => graph.tree.name(b.node) === name);
    if (!box) return null;
    const bounds = graph.canvas.getBoundingClientRect();
    return [bounds.left + (box.x + box.width / 2) * bounds.width, bounds.top + (box.row + 0.5) * 18];
}"""
PIXEL_AT = """([x, y]) => {
    const canvas = document.querySelector('#diffgraph canvas');
    const bounds = canvas.getBoundingClientRect();
    const ratio = canvas.width / bounds.width;
    return Array.from(canvas.getContext('2d').getImageData((x - bounds.left) * ratio, (y - bounds.top) * ratio, 1, 1).data);
}"""


@pytest.fixture(scope="module")
def served_pair(tmp_path_factory):
    directory = tmp_path_factory.mktemp("compare-live")
    data_dir = directory / "data"
    with serve(data_dir, free_port(), workers=1, log_path=directory / "serve.log") as (_process, url):
        for app in make_app(data_dir):
            base, head = store_pair(app.extensions["flamedeck.store"], head_runs=2, worker_samples=1000)
        yield url, base.token, head.token


def test_the_cli_gates_on_a_regression_between_two_report_links(served_pair):
    url, base, head = served_pair
    command = [sys.executable, "-m", "webapp.cli", "compare", f"{url}/r/{base}", f"{url}/r/{head}"]
    failed = subprocess.run([*command, "--format", "markdown"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            timeout=60)
    assert failed.returncode == 1, failed.stderr
    assert f"[compare page]({url}/compare/{base}...{head})" in failed.stdout
    assert failed.stdout.index("| `fresh`") < failed.stdout.index("| `steady`")
    passed = subprocess.run([*command, "--threshold", "50"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            timeout=60)
    assert passed.returncode == 0, passed.stderr + passed.stdout
    assert "No function's self share changed significantly by more than 50 points" in passed.stdout


def test_the_differential_flamegraph_draws_reads_right_toggles_and_hovers(served_pair, browser):
    url, base, head = served_pair
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    problems = PageProblems(page)
    try:
        page.goto(f"{url}/compare/{base}...{head}")
        page.wait_for_selector("#diffgraph canvas")
        page.wait_for_function("document.querySelector('#diffgraph').diffgraph.boxes.length > 0")
        # Legend: the direction in words, the scale in points (the largest change: gone, 25 % -> 0).
        legend = page.locator("#diffgraph").inner_text()
        assert "Red: more time in head than in base" in legend
        assert "+25 points (more in head)" in legend and "−25 points (less in head)" in legend
        assert "Dashed outline: new, only in head" in legend
        # Threads: MainThread alone, shares of its own samples (gone: 50 % -> 0).
        all_threads = page.evaluate(SIGNATURE)
        page.select_option("#diffgraph select", label="MainThread")
        assert page.evaluate(SIGNATURE) != all_threads and page.evaluate(FRAME_CENTRE, "spin") is None
        assert "+50 points (more in head)" in page.locator("#diffgraph").inner_text()
        # hot grew (red), gone is not drawn with head widths; fresh is new.
        hot = page.evaluate(FRAME_CENTRE, "hot")
        red, _, blue, _ = page.evaluate(PIXEL_AT, hot)
        assert red > blue + 60
        assert page.evaluate(FRAME_CENTRE, "gone") is None and page.evaluate(FRAME_CENTRE, "fresh") is not None
        # Hover: both sides and the change.
        page.mouse.move(*hot)
        tooltip = page.locator(".diff-tooltip")
        tooltip.wait_for(state="visible")
        text = tooltip.inner_text()
        assert "base: self 200 samples (20.0 %)" in text and "head: self 800 samples (40.0 %)" in text
        assert "change: +20 points" in text
        # Widths from base: the vanished function appears, blue; the picture changes.
        before = page.evaluate(SIGNATURE)
        page.get_by_label("base run").check()
        assert page.evaluate(SIGNATURE) != before
        gone = page.evaluate(FRAME_CENTRE, "gone")
        assert gone is not None
        red, _, blue, _ = page.evaluate(PIXEL_AT, gone)
        assert blue > red + 60
        assert "Dashed outline: gone, only in base" in page.locator("#diffgraph").inner_text()
        # Normalise by time: the head run is twice as long, so steady (same share) is now red,
        # and the scale is in seconds (main: 10 s -> 20 s, in MainThread).
        page.get_by_label("head run").check()
        by_share = page.evaluate(SIGNATURE)
        steady = page.evaluate(FRAME_CENTRE, "steady")
        red_share, _, blue_share, _ = page.evaluate(PIXEL_AT, steady)
        page.get_by_label("time (samples × interval)").check()
        assert page.evaluate(SIGNATURE) != by_share
        red_time, _, blue_time, _ = page.evaluate(PIXEL_AT, steady)
        assert abs(red_share - blue_share) < 30 and red_time > blue_time + 30
        assert "+10.00 s (more in head)" in page.locator("#diffgraph").inner_text()
        # The table: default order puts a significant regression first.
        first = page.locator("#compare-functions tbody tr").first.inner_text()
        assert "slower" in first
        assert problems.errors == [] and problems.dialogs == []
    except Exception:
        save_screenshot(page, "test_compare_live")
        raise
    finally:
        context.close()
