"""The flamegraph in real Chromium, on a report-like page served under the app's strict CSP.

Every test also fails if the page logged an error (a CSP violation included) or
opened a dialog.
"""

from __future__ import annotations

import re

import pytest

from webapp.profiles.exporters.flame_tree import FlameTreeExporter
from webapp.profiles.exporters.svg import SvgExporter, _colour
from webapp.profiles.model import Frame, Profile

from .support import (
    SCRIPT,
    VIEWPORT,
    XSS_NAME,
    canvas_signature,
    centre_of,
    crumbs,
    is_drawn,
    known_profile,
    snapshot,
    wait_until_drawn,
)

pytestmark = pytest.mark.slow
ROOT_LABEL = "All threads (200 samples)"


@pytest.fixture
def open_graph(page, harness, request):
    """Open a harness page on ``profile`` (default: the known profile) once it is drawn."""
    opened = []

    def open_(profile: Profile | None = None, rows=(), script_file: str = SCRIPT):
        name = re.sub(r"\W+", "_", request.node.name) + str(len(opened))
        flame_json = FlameTreeExporter(script_file).render(profile or known_profile())
        page.goto(harness.add_page(name, flame_json, script_file=script_file, rows=rows))
        wait_until_drawn(page)
        opened.append(name)
        return page

    yield open_
    assert page.problems.errors == [] and page.problems.dialogs == []


def test_flamegraph_is_drawn(open_graph):
    page = open_graph()
    picture = canvas_signature(page)
    assert picture["painted"] > picture["total"] * 0.5
    shown = snapshot(page)
    assert shown["drawnFrames"] == 11  # every node of the merged function tree
    assert (shown["view"], shown["level"], shown["orientation"]) == ("all", "function", "flame")
    assert crumbs(page) == [ROOT_LABEL]
    assert page.locator("#flamegraph > h2").text_content() == "Flamegraph", "the page's own content stays"
    assert page.locator("#flamegraph .fg-legend").inner_text().split("\n")[:4] == [
        "your script", "standard library", "site-packages", "native / unknown"]


def test_hover_shows_function_location_and_figures(open_graph):
    page = open_graph()
    page.mouse.move(*centre_of(page, "compute"))
    tooltip = page.locator("#flamegraph .fg-tooltip")
    assert tooltip.is_visible()
    lines = tooltip.locator("div").all_text_contents()
    assert lines[0] == "compute"
    assert lines[1].startswith("job/app.py:10") and "your script" in lines[1]  # paths shortened as in the tables
    assert lines[2:] == ["Total: 60 samples \u00b7 30.0 % of all", "Self: 20 samples \u00b7 10.0 % of all"]
    page.mouse.click(*centre_of(page, "main"))
    page.mouse.move(*centre_of(page, "compute"))
    assert tooltip.locator("div").all_text_contents()[2] == "Total: 60 samples \u00b7 30.0 % of all \u00b7 60.0 % of zoom"
    page.mouse.move(1, 1)
    assert not tooltip.is_visible()


def test_click_zooms_and_reset_returns(open_graph):
    page = open_graph()
    before = canvas_signature(page)
    page.mouse.click(*centre_of(page, "main"))
    assert crumbs(page) == [ROOT_LABEL, "main"]
    assert snapshot(page)["drawnFrames"] == 8  # the root above, main and its six descendants
    assert canvas_signature(page)["sum"] != before["sum"]
    assert not is_drawn(page, "run")
    page.mouse.click(*centre_of(page, "compute"))
    assert crumbs(page) == [ROOT_LABEL, "main", "compute"]
    page.locator("#flamegraph .fg-crumb", has_text="main").click()
    assert crumbs(page) == [ROOT_LABEL, "main"]
    page.locator("#flamegraph .fg-reset").click()
    assert crumbs(page) == [ROOT_LABEL] and canvas_signature(page)["sum"] == before["sum"]
    page.mouse.click(*centre_of(page, "main"))
    page.mouse.dblclick(*centre_of(page, "loads"))
    assert crumbs(page) == [ROOT_LABEL]
    page.mouse.click(*centre_of(page, "main"))
    page.keyboard.press("Escape")
    assert crumbs(page) == [ROOT_LABEL]
    assert page.evaluate("performance.getEntriesByName('flamegraph:zoom', 'measure').length") >= 4


def test_zoom_lays_out_again_so_narrow_frames_appear(open_graph):
    profile = Profile(name="narrow.py")
    main, hot, warm, cool = (profile.intern_frame(Frame(n, SCRIPT, k)) for k, n in enumerate(["main", "hot", "warm", "cool"]))
    thread = profile.add_thread("MainThread")
    thread.append(profile.intern_stack((main, hot)), 99_000)
    thread.append(profile.intern_stack((main, warm)), 990)
    thread.append(profile.intern_stack((main, warm, cool)), 10)  # 0.12 px wide at full width
    page = open_graph(profile)
    assert is_drawn(page, "warm") and not is_drawn(page, "cool")
    page.mouse.click(*centre_of(page, "warm"))
    assert is_drawn(page, "cool")


def test_search_reports_each_sample_once(open_graph):
    page = open_graph()
    search, match = page.locator("#flamegraph .fg-search"), page.locator("#flamegraph .fg-match")
    before = canvas_signature(page)
    search.fill("loads")
    assert match.text_content() == "matched: 20.0 % of samples"
    assert canvas_signature(page)["sum"] != before["sum"], "matches are highlighted"
    search.fill("/^comp/")
    assert match.text_content() == "matched: 80.0 % of samples"
    search.fill("/./")  # every frame matches, yet no sample is counted twice
    assert match.text_content() == "matched: 100.0 % of samples"
    search.fill("JSON/")  # plain text, case-insensitive, also matches the file
    assert match.text_content() == "matched: 20.0 % of samples"
    search.fill("/(/")
    assert "not valid" in match.text_content()
    search.fill("")
    assert match.text_content() == "" and canvas_signature(page)["sum"] == before["sum"]
    assert page.evaluate("performance.getEntriesByName('flamegraph:search', 'measure').length") >= 5


def test_thread_selector_switches_tree(open_graph):
    page = open_graph()
    options = page.locator("#flamegraph .fg-view option").all_text_contents()
    assert options == ["All threads \u2014 200 samples", "MainThread \u2014 100 samples", "worker \u2014 100 samples"]
    page.locator("#flamegraph .fg-search").fill("compute")
    page.locator("#flamegraph .fg-view").select_option(label="worker \u2014 100 samples")
    shown = snapshot(page)
    assert shown["view"] == "thread-1" and shown["drawnFrames"] == 4
    assert crumbs(page) == ["worker (100 samples)"]
    assert shown["match"] == "matched: 100.0 % of samples"
    assert not is_drawn(page, "main") and is_drawn(page, "work")


def test_orientation_switch_is_remembered(open_graph):
    page = open_graph()
    assert centre_of(page, ROOT_LABEL)[1] > centre_of(page, "main")[1], "flame: root at the bottom"
    page.locator("#flamegraph .fg-segmented button", has_text="Icicle").click()
    assert centre_of(page, ROOT_LABEL)[1] < centre_of(page, "main")[1], "icicle: root on top"
    assert page.evaluate("localStorage.getItem('flamedeck.flamegraph.orientation')") == "icicle"
    page.reload()
    wait_until_drawn(page)
    assert snapshot(page)["orientation"] == "icicle"
    assert centre_of(page, ROOT_LABEL)[1] < centre_of(page, "main")[1]


def test_group_by_line(open_graph):
    page = open_graph()
    assert is_drawn(page, "compute") and not is_drawn(page, "compute:12")
    page.locator("#flamegraph .fg-segmented button", has_text="Line").click()
    assert snapshot(page)["level"] == "line"
    assert is_drawn(page, "compute:10") and is_drawn(page, "compute:12")
    page.mouse.move(*centre_of(page, "compute:12"))
    assert page.locator("#flamegraph .fg-tooltip div").all_text_contents()[1].startswith("job/app.py:12")


def test_hostile_frame_name_never_runs(open_graph):
    page = open_graph()
    page.mouse.move(*centre_of(page, XSS_NAME))
    assert page.locator("#flamegraph .fg-tooltip div").first.text_content() == XSS_NAME
    page.mouse.click(*centre_of(page, XSS_NAME))
    assert crumbs(page) == [ROOT_LABEL, "main", XSS_NAME]
    page.locator("#flamegraph .fg-search").fill("<img")
    assert page.locator("#flamegraph .fg-match").text_content() == "matched: 5.0 % of samples"
    page.wait_for_timeout(200)  # give a smuggled onerror handler the chance to fire
    assert page.locator("img").count() == 0
    # open_graph's teardown fails the test on any dialog (alert) or page error


def test_hot_function_row_highlights_the_function(open_graph):
    page = open_graph(rows=[("compute", SCRIPT), ("loads", "/usr/lib/python3.11/json/__init__.py")])
    page.locator("#hot tr", has_text="compute").click()
    assert page.locator("#flamegraph .fg-match").text_content() == "matched: 80.0 % of samples"
    assert page.locator("#flamegraph .fg-search").input_value() == "compute"
    page.locator("#hot tr", has_text="loads").focus()
    page.keyboard.press("Enter")
    assert page.locator("#flamegraph .fg-match").text_content() == "matched: 20.0 % of samples"


def test_keyboard_slash_focuses_search_and_escape_resets(open_graph):
    page = open_graph()
    page.mouse.click(*centre_of(page, "main"))
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.classList.contains('fg-search')")
    page.keyboard.type("loads")
    assert page.locator("#flamegraph .fg-match").text_content() == "matched: 20.0 % of samples"
    page.keyboard.press("Escape")
    assert page.locator("#flamegraph .fg-search").input_value() == ""
    assert page.locator("#flamegraph .fg-match").text_content() == ""
    assert crumbs(page) == [ROOT_LABEL]


@pytest.mark.parametrize("context_options", [{"viewport": VIEWPORT, "device_scale_factor": 2}])
def test_sharp_on_hidpi_screens(open_graph):
    page = open_graph()
    size = page.evaluate("(() => { const c = document.querySelector('#flamegraph canvas');"
                         " return [c.width, c.height, c.clientWidth, c.clientHeight]; })()")
    assert size[0] == 2 * size[2] and size[1] == 2 * size[3]
    assert canvas_signature(page)["painted"] > 0


def test_fills_width_and_follows_resizes(open_graph):
    page = open_graph()
    width = page.evaluate("document.querySelector('#flamegraph canvas').clientWidth")
    assert width > VIEWPORT["width"] - 60
    page.set_viewport_size({"width": 700, "height": 600})
    page.wait_for_function("() => document.querySelector('#flamegraph canvas').clientWidth < 700")
    assert is_drawn(page, "main") and canvas_signature(page)["painted"] > 0


def test_svg_and_page_share_colours(open_graph):
    page = open_graph()
    js = page.evaluate("""async () => {
        const palette = await import('/static/js/flamegraph/palette.js');
        return palette.functionColours('compute', '/job/app.py', 'script').fill;
    }""")
    assert js == _colour(Frame("compute", SCRIPT, 10), "script")


def test_load_failure_is_explained(page, harness):
    page.goto(harness.add_file("missing.html", b"""<!doctype html><html><head><meta charset="utf-8">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/css/flamegraph.css">
<script type="module" src="/static/js/flamegraph.js"></script></head>
<body><section id="flamegraph" data-flamegraph-url="nowhere.flame.json"></section></body></html>"""))
    status = page.locator("#flamegraph .fg-status")
    status.wait_for()
    page.wait_for_function("() => document.querySelector('#flamegraph .fg-status').textContent.includes('HTTP')")
    assert status.text_content() == "The flamegraph could not be loaded (the server answered HTTP 404). Reload the page to try again."


def test_svg_download_is_interactive_in_chromium(page, tmp_path):
    svg_file = tmp_path / "flamegraph.svg"
    svg_file.write_bytes(SvgExporter(SCRIPT).render(known_profile()))
    page.goto(svg_file.as_uri())
    assert page.evaluate("document.documentElement.tagName") == "svg"
    assert page.evaluate("document.documentElement.namespaceURI") == "http://www.w3.org/2000/svg"
    groups = page.locator("g.frame")
    assert groups.count() == 11
    compute = groups.filter(has_text="compute").first
    compute.hover()
    assert page.locator("#details").text_content().startswith("compute  \u00b7  /job/app.py:10")
    compute.click()
    assert float(compute.locator("rect").get_attribute("width")) == pytest.approx(1199.5)
    assert page.locator("#reset").get_attribute("visibility") == "visible"
    assert groups.filter(has_text="run").first.get_attribute("class") == "frame hidden"
    page.problems.answers.append("/^comp/")
    page.keyboard.press("/")
    assert page.locator("#matched").text_content() == "matched: 80.0 % of samples"
    page.locator("#reset").click()
    assert page.locator("#reset").get_attribute("visibility") == "hidden"
    xss = groups.filter(has=page.locator("title", has_text=XSS_NAME))
    assert xss.count() == 1 and page.locator("img").count() == 0
    assert page.problems.errors == [] and page.problems.dialogs == ["Search functions and files (text or /regex/):"]


def test_mounts_on_content_added_later(open_graph, harness):
    """A report page swapped in by htmx gets its flamegraph too."""
    page = open_graph()
    url = harness.add_file("later.flame.json", FlameTreeExporter(SCRIPT).render(known_profile()))
    page.evaluate("""(url) => {
        const section = document.createElement('section');
        section.id = 'later';
        section.dataset.flamegraphUrl = url;
        document.body.append(section);
    }""", url)
    page.wait_for_function("() => document.getElementById('later').flamegraph?.data !== undefined")
    page.wait_for_function("() => document.querySelector('#later canvas').width > 0")
    assert page.locator("#later .fg-crumb").all_text_contents() == [ROOT_LABEL]
    page.evaluate("document.getElementById('flamegraph').remove()")
    page.locator("#later .fg-search").fill("loads")
    assert page.locator("#later .fg-match").text_content() == "matched: 20.0 % of samples"


def test_processes_are_offered_when_subprocesses_were_profiled(open_graph):
    profile = Profile(name="parent.py")
    parent, child = (profile.intern_frame(Frame(n, SCRIPT, k)) for k, n in enumerate(["parent_main", "child_main"]))
    profile.add_thread("MainThread", "pid 10").append(profile.intern_stack((parent,)), 30)
    profile.add_thread("MainThread", "pid 11").append(profile.intern_stack((child,)), 10)
    page = open_graph(profile)
    select = page.locator("#flamegraph .fg-view")
    assert select.locator("optgroup[label='Processes'] option").all_text_contents() == [
        "pid 10 \u2014 30 samples", "pid 11 \u2014 10 samples"]
    select.select_option(label="pid 11 \u2014 10 samples")
    assert crumbs(page) == ["pid 11 (10 samples)"]
    assert is_drawn(page, "child_main") and not is_drawn(page, "parent_main")
