"""The flamegraph in the real app: a report made through the upload form, in real Chromium.

One real ``flamedeck serve`` (gunicorn + job worker, jobs in the sandbox) runs for the
module; the example is uploaded once through the form and every test opens the finished
report in a fresh browser context. Expected figures come from the page's own
hot-functions table, which the server computed from the same profile.

Every test also fails if a page logged an error, reported a Content-Security-Policy
violation or opened a dialog; a failing test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import ast
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from web.live import PROJECT_ROOT, free_port, serve  # tests/web/live.py: real server processes

from .conftest import PageProblems, save_screenshot
from .support import VIEWPORT, canvas_signature, centre_of, crumbs, is_drawn, snapshot, wait_until_drawn

pytestmark = pytest.mark.slow

EXAMPLE = PROJECT_ROOT / "examples" / "multi_threaded.py"
EXAMPLE_ARGS, EXAMPLE_DURATION_S = "--runtime 1", 5
WORKER_FUNCTIONS = ("hash_blocks", "sort_lists", "count_primes", "multiply_matrices")  # one per thread
REPORT_TIMEOUT_MS = 60_000
SPEEDSCOPE_TIMEOUT_MS = 20_000
PERCENT_TOLERANCE = 0.051  # the page rounds to one decimal; the table's figure is exact
SVG_NS = "{http://www.w3.org/2000/svg}"

# Runs before any page script (and outside the page's CSP): remember every policy violation.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => window.__cspViolations.push(
  `${event.violatedDirective} ${event.blockedURI} from ${new URL(event.sourceFile || "/", location.href).pathname}`));
"""
# speedscope bundles protobufjs, whose optional-module probe tries eval("require") inside a
# try/catch when the script loads; our policy blocks it (no 'unsafe-eval') and speedscope
# works without it. Any other violation fails the test.
SPEEDSCOPE_EVAL_PROBE = re.compile(r"script-src eval from /speedscope/speedscope-[A-Z0-9]+\.js")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("app-browser")
    with serve(directory / "data", free_port(), workers=1, log_path=directory / "serve.log") as (_process, base_url):
        yield base_url


@pytest.fixture(scope="module")
def report_url(server, browser) -> str:
    """Upload the example through the home page's form, as a user does; the finished report's URL."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    problems = PageProblems(page)
    try:
        page.goto(server + "/")
        page.set_input_files("#script", str(EXAMPLE))
        page.fill("#duration", str(EXAMPLE_DURATION_S))
        page.fill("#args", EXAMPLE_ARGS)
        page.click("button:has-text('Profile')")
        page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22,}$"))
        page.wait_for_selector("#hot-functions", timeout=REPORT_TIMEOUT_MS)
        wait_until_drawn(page)
        assert problems.errors == [] and problems.dialogs == []
        return page.url
    except Exception:
        save_screenshot(page, "test_app_browser_upload")
        raise
    finally:
        context.close()


@pytest.fixture
def report(page, report_url):
    """The finished report, drawn, in a fresh context; fails the test on any page problem."""
    page.context.add_init_script(RECORD_CSP_VIOLATIONS)
    page.goto(report_url)
    wait_until_drawn(page)
    yield page
    assert page.problems.errors == [] and page.problems.dialogs == []
    assert page.evaluate("window.__cspViolations") == []


def hot_function(page, name: str) -> dict:
    """The server's figures for ``name`` from the hot-functions table."""
    row = page.locator(f'#hot-functions tbody tr[data-flame-name="{name}"]')
    assert row.count() == 1, f"{name} is not in the hot-functions table once"
    values = row.locator("td").evaluate_all("cells => cells.map(cell => cell.dataset.value)")
    return {"row": row, "file": row.get_attribute("data-flame-file"), "self": int(values[3]),
            "self_percent": float(values[4]), "total": int(values[5]), "total_percent": float(values[6])}


def definition(name: str) -> ast.FunctionDef:
    """The example's ``def name`` as Python parses it."""
    tree = ast.parse(EXAMPLE.read_text())
    [node] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    return node


def hover_location(page, label: str) -> str:
    page.mouse.move(*centre_of(page, label))
    tooltip = page.locator("#flamegraph .fg-tooltip")
    assert tooltip.is_visible()
    return tooltip.locator("div").all_text_contents()[1]


def total_samples(page) -> int:
    """Samples of the whole profile, from the root frame's label."""
    return int(re.fullmatch(r"All threads \(([\d,]+) samples\)", crumbs(page)[0]).group(1).replace(",", ""))


def percent_in(text: str, pattern: str) -> float:
    found = re.fullmatch(pattern, text)
    assert found, f"{text!r} does not match {pattern!r}"
    return float(found.group(1))


# -- the tests -----------------------------------------------------------------------------
def test_the_report_draws_the_flamegraph_of_every_thread(report):
    picture = canvas_signature(report)
    assert picture["painted"] > picture["total"] * 0.2, "the canvas is (nearly) blank"
    shown = snapshot(report)
    assert (shown["view"], shown["level"], shown["orientation"]) == ("all", "function", "flame")
    assert shown["drawnFrames"] >= 15
    table_heading = report.inner_text("section:has(#hot-functions) .section-head .muted")
    assert table_heading.startswith(f"{total_samples(report):,} samples"), "the root frame holds every sample"
    for function in WORKER_FUNCTIONS:
        assert is_drawn(report, function), f"{function} is missing from the flamegraph"


def test_hover_shows_the_function_where_it_is_and_its_figures(report):
    expected = hot_function(report, "hash_blocks")
    report.mouse.move(*centre_of(report, "hash_blocks"))
    tooltip = report.locator("#flamegraph .fg-tooltip")
    assert tooltip.is_visible()
    title, location, total, self_ = tooltip.locator("div").all_text_contents()
    assert title == "hash_blocks"
    # grouped by function, the script's function is shown at its def line
    assert location == f"{expected['file']}:{definition('hash_blocks').lineno} your script"
    shown_total = percent_in(total, rf"Total: {expected['total']:,} samples \u00b7 ([\d.]+) % of all")
    assert abs(shown_total - expected["total_percent"]) < PERCENT_TOLERANCE
    shown_self = percent_in(self_, rf"Self: {expected['self']:,} samples \u00b7 ([\d.]+) % of all")
    assert abs(shown_self - expected["self_percent"]) < PERCENT_TOLERANCE


def test_outside_the_script_a_function_line_is_marked_as_only_the_first_sampled(report):
    location = hover_location(report, "Thread.run")
    assert re.fullmatch(r"threading\.py:\d+ \(first sampled line\) .+", location), location  # shortened, as in the tables


def test_group_by_line_draws_the_lines_pyspy_sampled(report):
    report.locator("#flamegraph .fg-segmented button", has_text="Line").click()
    assert snapshot(report)["level"] == "line"
    node = definition("hash_blocks")
    body = range(node.lineno + 1, node.end_lineno + 1)
    drawn = [line for line in body if is_drawn(report, f"hash_blocks:{line}")]
    assert drawn, "hash_blocks is drawn per sampled line of its body"
    assert not is_drawn(report, "hash_blocks"), "no function-level frame at line level"


def test_a_click_zooms_into_the_frame_and_escape_resets(report):
    root = crumbs(report)
    before, drawn_before = canvas_signature(report), snapshot(report)["drawnFrames"]
    assert is_drawn(report, "<module>")
    report.mouse.click(*centre_of(report, "run_workers.<locals>.work"))
    path = crumbs(report)
    assert path[0] == root[0] and path[-1] == "run_workers.<locals>.work" and len(path) >= 3
    assert snapshot(report)["drawnFrames"] != drawn_before
    assert canvas_signature(report)["sum"] != before["sum"]
    assert not is_drawn(report, "<module>"), "the main thread's branch is outside the zoom"
    assert report.locator("#flamegraph .fg-reset").is_enabled()
    report.keyboard.press("Escape")
    assert crumbs(report) == root and canvas_signature(report)["sum"] == before["sum"]


def test_search_reports_the_share_of_samples_matched(report):
    expected = hot_function(report, "count_primes")  # also matches its nested <genexpr>: counted once
    before = canvas_signature(report)
    report.locator("#flamegraph .fg-search").fill("count_primes")
    matched = report.locator("#flamegraph .fg-match").text_content()
    share = percent_in(matched, r"matched: ([\d.]+) % of samples")
    assert abs(share - 100 * expected["total"] / total_samples(report)) < PERCENT_TOLERANCE
    assert canvas_signature(report)["sum"] != before["sum"], "the matches are highlighted"


def test_each_thread_has_its_own_flamegraph(report):
    options = report.locator("#flamegraph .fg-view option").all_text_contents()
    threads = report.locator("#threads tbody tr").count()
    assert len(options) == 1 + threads and options[0].startswith("All threads")
    seen_in: dict[str, list[str]] = {function: [] for function in WORKER_FUNCTIONS}
    for option in options[1:]:
        report.locator("#flamegraph .fg-view").select_option(label=option)
        label, samples = option.split(" \u2014 ")
        shown = snapshot(report)
        assert shown["view"].startswith("thread-")
        assert crumbs(report) == [f"{label} ({samples})"]
        for function in WORKER_FUNCTIONS:
            if is_drawn(report, function):
                seen_in[function].append(label)
    # Every worker's function is drawn in exactly one thread's view, each in a different one.
    assert all(len(labels) == 1 for labels in seen_in.values()), seen_in
    assert len({labels[0] for labels in seen_in.values()}) == len(WORKER_FUNCTIONS)
    report.locator("#flamegraph .fg-view").select_option(index=0)
    assert snapshot(report)["view"] == "all" and all(is_drawn(report, f) for f in WORKER_FUNCTIONS)


def test_the_orientation_switches_between_flame_and_icicle(report):
    root = crumbs(report)[0]
    assert centre_of(report, root)[1] > centre_of(report, "hash_blocks")[1], "flame: the root at the bottom"
    report.locator("#flamegraph .fg-segmented button", has_text="Icicle").click()
    assert snapshot(report)["orientation"] == "icicle"
    assert centre_of(report, root)[1] < centre_of(report, "hash_blocks")[1], "icicle: the root on top"
    report.locator("#flamegraph .fg-segmented button", has_text="Flame").click()
    assert centre_of(report, root)[1] > centre_of(report, "hash_blocks")[1]


def test_a_hot_functions_row_highlights_its_function(report):
    expected = hot_function(report, "sort_lists")
    before = canvas_signature(report)
    expected["row"].click()
    assert report.locator("#flamegraph .fg-search").input_value() == "sort_lists"
    matched = report.locator("#flamegraph .fg-match").text_content()
    assert abs(percent_in(matched, r"matched: ([\d.]+) % of samples") - expected["total_percent"]) < PERCENT_TOLERANCE
    assert canvas_signature(report)["sum"] != before["sum"], "the function is highlighted"


def test_the_speedscope_download_opens_in_the_bundled_speedscope(report):
    with report.expect_download() as download_info:
        report.click("a.button:has-text('Speedscope profile')")
    download = download_info.value
    assert download.suggested_filename == "multi_threaded.speedscope.json"
    profile_names = [profile["name"] for profile in json.loads(Path(download.path()).read_text())["profiles"]]
    assert len(profile_names) >= 1 + len(WORKER_FUNCTIONS) and "All threads" in profile_names
    link = report.locator("a:has-text('Open in speedscope')")
    profile_path = report.locator("a.button:has-text('Speedscope profile')").get_attribute("href")
    viewer_url = "/speedscope/index.html#profileURL=" + urllib.parse.quote(profile_path, safe="")
    assert link.get_attribute("href") == viewer_url, "speedscope opens the same file as the download"

    with report.context.expect_page() as viewer_info:
        link.click()
    viewer = viewer_info.value
    problems = PageProblems(viewer)
    try:
        # speedscope names its tab after the profile once parsed, and its toolbar says "(k/n)".
        # ... and opens on the first profile: a real thread, not the merged one (which is last)
        counter = viewer.get_by_text(re.compile(rf"^\(1/{len(profile_names)}\)$"))
        counter.wait_for(timeout=SPEEDSCOPE_TIMEOUT_MS)
        assert profile_names[-1] == "All threads" and profile_names[0] != "All threads"
        assert viewer.title() == "multi_threaded.py - speedscope"
        counter.click()  # opens the profile selector
        viewer.locator("input[placeholder='Filter...']").wait_for()
        listed = viewer.locator("tbody tr[title]").evaluate_all("rows => rows.map(row => row.title)")
        assert listed == profile_names
        assert viewer.locator("canvas").count() > 0
        assert problems.errors == [] and problems.dialogs == []
        violations = viewer.evaluate("window.__cspViolations")
        assert [v for v in violations if not SPEEDSCOPE_EVAL_PROBE.fullmatch(v)] == []
    except Exception:
        save_screenshot(viewer, "test_app_browser_speedscope")
        raise


def test_the_svg_download_is_a_standalone_picture(report, tmp_path):
    link = report.locator("a.button:has-text('Flamegraph (.svg)')")
    headers = report.request.get(urllib.parse.urljoin(report.url, link.get_attribute("href"))).headers
    assert headers["content-disposition"] == 'attachment; filename="multi_threaded.svg"'
    assert "sandbox" in headers["content-security-policy"]
    with report.expect_download() as download_info:
        link.click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    document = ElementTree.parse(saved).getroot()
    assert document.tag == f"{SVG_NS}svg"
    frame_elements = [g for g in document.iter(f"{SVG_NS}g") if g.get("class") == "frame"]
    names = {g.find(f"{SVG_NS}title").text.split("\n")[0] for g in frame_elements}
    assert set(WORKER_FUNCTIONS) <= names

    opened = report.context.new_page()
    problems = PageProblems(opened)
    opened.goto(saved.as_uri())
    frames = opened.evaluate("""() => [...document.querySelectorAll('g.frame')].map(g => {
        const box = g.querySelector('rect').getBoundingClientRect();
        return { name: g.querySelector('title').textContent.split('\\n')[0], x: box.x + box.width / 2,
                 y: box.y + box.height / 2, width: box.width, height: box.height };
    })""")
    assert len(frames) == len(frame_elements)
    widest = max((f for f in frames if f["name"] == "hash_blocks"), key=lambda f: f["width"])
    assert widest["width"] > 50 and widest["height"] > 10
    hit = opened.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('g.frame') !== null",
                          [widest["x"], widest["y"]])
    assert hit, "the frames are painted where they are laid out"
    opened.mouse.click(widest["x"], widest["y"])  # the file's own script zooms, offline
    assert opened.locator("#reset").get_attribute("visibility") == "visible"
    assert problems.errors == [] and problems.dialogs == []


def test_flame_json_is_immutable_and_sent_gzipped(report):
    url = urllib.parse.urljoin(report.url, report.locator("#flamegraph").get_attribute("data-flame-url"))
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
    assert etag.startswith('"')
    again = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(again)
    assert not_modified.value.code == 304


def test_the_source_view_shows_each_lines_heat_for_the_selected_thread(report):
    source = report.locator("#source")
    lines = EXAMPLE.read_text().splitlines()
    assert source.locator("tr.src-line").count() == len(lines)
    assert source.locator(".src-code .k").count() > 10, "highlighted by Pygments (its stylesheet is allowed by the CSP)"
    assert source.get_attribute("data-view") == "all"
    hot_line = definition("count_primes").body[2].body[0].body[0].lineno  # the trial division's `if all(...)`
    row = report.locator(f"#L{hot_line}")
    assert int(row.get_attribute("data-total")) > 0
    assert row.locator(".src-heat").get_attribute("title").startswith("Self: ")

    # another thread: the heat follows it
    report.locator("#flamegraph .fg-view").select_option(  # the thread running hash_blocks
        label=report.locator("#flamegraph .fg-view option", has_text="hasher").text_content())
    assert source.get_attribute("data-view").startswith("thread-")
    assert row.get_attribute("data-total") == "0"
    loop_line = definition("hash_blocks").body[2].body[0].body[0].lineno  # digest = hashlib.sha256(...)
    assert int(report.locator(f"#L{loop_line}").get_attribute("data-total")) > 0

    # a frame of the script opens the source at its line; a line highlights its frames
    report.mouse.click(*centre_of(report, "hash_blocks"))
    report.locator("#flamegraph .fg-source").click()
    current = report.locator("#source tr.src-current")
    assert current.get_attribute("id") == f"L{definition('hash_blocks').lineno}" and current.is_visible()
    report.locator(f"#L{loop_line}").click()
    shown = snapshot(report)
    assert shown["level"] == "line" and shown["match"].startswith("matched: ")
    report.locator("#complexity tbody tr", has_text="count_primes").click()  # a complexity row opens its def
    assert report.locator("#source tr.src-current").get_attribute("id") == f"L{definition('count_primes').lineno}"
