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
from .test_report_page_browser import RECORD_PAGE_EVENTS

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


LABELS_DRAWN = """() => {
    const graph = document.querySelector('#diffgraph').diffgraph;
    return graph.boxes.map((box) => graph.tree.label(box.node));
}"""


def test_the_differential_flamegraph_groups_by_line_zooms_searches_and_walks_like_the_single_one(served_pair, browser):
    """Over all threads (head: hot 800, steady 600, fresh 600 and spin 2000 of 4000 samples; base:
    hot 200, steady 300, gone 500 and spin 1000 of 2000)."""
    url, base, head = served_pair
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RECORD_PAGE_EVENTS)
    page = context.new_page()
    problems = PageProblems(page)
    crumbs = page.locator("#diffgraph .fg-crumb")
    announce = page.locator("#diffgraph .fg-announce")
    matched = page.locator("#diffgraph .diff-matched")
    try:
        page.goto(f"{url}/compare/{base}...{head}")
        page.wait_for_function("() => document.querySelector('#diffgraph').diffgraph?.boxes?.length > 0")
        # By line: each frame is a function at a line, "name:line" as in the single flamegraph; and back.
        by_function = page.evaluate(SIGNATURE)
        assert "hot" in page.evaluate(LABELS_DRAWN)
        page.get_by_label("line", exact=True).check()
        page.wait_for_function("() => document.querySelector('#diffgraph').diffgraph.tree.level === 'line'")
        labels = page.evaluate(LABELS_DRAWN)
        assert {"main:1", "hot:5", "steady:9", "fresh:14"} <= set(labels) and "hot" not in labels
        assert page.evaluate(SIGNATURE) != by_function
        page.mouse.move(*page.evaluate(FRAME_CENTRE, "hot"))
        assert page.locator(".diff-tooltip-name").inner_text() == "hot:5"
        assert "head: self 800 samples (20.0 %)" in page.locator(".diff-tooltip").inner_text()
        page.get_by_label("function", exact=True).check()
        page.wait_for_function("() => document.querySelector('#diffgraph').diffgraph.tree.level === 'function'")
        assert "hot" in page.evaluate(LABELS_DRAWN) and page.evaluate(SIGNATURE) == by_function
        # Zoom path: a click on main adds its crumb; the root crumb zooms back out.
        assert crumbs.all_text_contents() == ["All threads"]
        page.mouse.click(*page.evaluate(FRAME_CENTRE, "main"))
        assert crumbs.all_text_contents() == ["All threads", "main"]
        assert page.evaluate(FRAME_CENTRE, "spin") is None  # outside the zoom
        crumbs.first.click()
        assert crumbs.all_text_contents() == ["All threads"] and page.evaluate(FRAME_CENTRE, "spin") is not None
        # Search: /regex/ as in the single flamegraph; matches keep their colour, the rest fade.
        hot, steady = page.evaluate(FRAME_CENTRE, "hot"), page.evaluate(FRAME_CENTRE, "steady")
        hot_before, steady_before = page.evaluate(PIXEL_AT, hot), page.evaluate(PIXEL_AT, steady)
        search = page.get_by_label("Search functions and files")
        search.fill("/^st.*y$/")
        assert matched.inner_text() == "1 frame matched: 15.0 % of head, 15.0 % of base"
        assert page.evaluate(PIXEL_AT, steady) == steady_before and page.evaluate(PIXEL_AT, hot) != hot_before
        search.fill("/^(HOT|fresh)$/i")
        assert matched.inner_text() == "2 frames matched: 35.0 % of head, 10.0 % of base"
        search.fill("/(unclosed/")
        assert matched.inner_text() == "That regular expression is not valid; fix it or search for plain text."
        assert "fg-error" in matched.get_attribute("class")
        search.fill("")
        assert matched.inner_text() == "" and page.evaluate(PIXEL_AT, hot) == hot_before
        # Keyboard: the first arrow selects the root, Down the heaviest callee (main and run tie:
        # the first), Right the next drawn sibling; the read-out gives both sides and the change.
        page.locator("#diffgraph canvas").focus()
        page.keyboard.press("ArrowDown")
        assert announce.inner_text().startswith("All threads. base: self 0 samples")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert announce.inner_text() == (
            "hot. app.py:5. base: self 200 samples (10.0 %), total 200 samples (10.0 %, 2.00 s). "
            "head: self 800 samples (20.0 %), total 800 samples (20.0 %, 8.00 s). change: +10 points, +6.00 s")
        page.keyboard.press("ArrowRight")
        assert announce.inner_text().startswith("steady. app.py:9. base: self 300 samples (15.0 %)")
        page.keyboard.press("Enter")
        assert crumbs.all_text_contents() == ["All threads", "main", "steady"]
        assert announce.inner_text().startswith("steady.")  # the zoomed frame stays selected
        page.keyboard.press("Escape")
        assert crumbs.all_text_contents() == ["All threads"] and announce.inner_text() == ""
        assert problems.errors == [] and problems.dialogs == []
        assert page.evaluate("window.__cspViolations") == []
    except Exception:
        save_screenshot(page, "test_compare_live_navigation")
        raise
    finally:
        context.close()
