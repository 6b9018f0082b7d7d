"""The flamegraph's view features of issue 13 in real Chromium: transforms, sandwich, view links.

One harness page (the app's strict CSP) per test, each checking several things; every
test also fails if the page logged an error or opened a dialog.
"""

from __future__ import annotations

import pytest

from webapp.profiles.exporters.flame_tree import FlameTreeExporter
from webapp.profiles.model import Frame, Profile

from .support import GRAPH, SCRIPT, centre_of, snapshot, wait_until_drawn

pytestmark = pytest.mark.slow

JSON_DECODER = "/usr/lib/python3.11/json/decoder.py"
THREADING = "/usr/lib/python3.11/threading.py"
SHARE_URL = "https://flamedeck.example/r/abc"  # the report's share link in the page header


def views_profile() -> Profile:
    """MainThread: main > parse > decode (json) 30, main > <listcomp> 10, main > fib > fib > fib 20,
    main > report > parse 15; worker: _bootstrap (threading) > work 25. 100 samples."""
    profile = Profile(name="app.py")
    frame = lambda name, file, line: profile.intern_frame(Frame(name, file, line))  # noqa: E731
    main, parse, fib = frame("main", SCRIPT, 1), frame("parse", SCRIPT, 20), frame("fib", SCRIPT, 30)
    listcomp, report = frame("<listcomp>", SCRIPT, 5), frame("report", SCRIPT, 50)
    decode = frame("decode", JSON_DECODER, 332)
    bootstrap, work = frame("_bootstrap", THREADING, 995), frame("work", SCRIPT, 40)
    main_thread = profile.add_thread("MainThread")
    for stack, count in (((main, parse, decode), 30), ((main, listcomp), 10), ((main, fib, fib, fib), 20),
                         ((main, report, parse), 15)):
        main_thread.append(profile.intern_stack(stack), count)
    profile.add_thread("worker").append(profile.intern_stack((bootstrap, work)), 25)
    return profile


@pytest.fixture
def views_page(page, harness, request):
    page.goto(harness.add_page(request.node.name, FlameTreeExporter(SCRIPT).render(views_profile()),
                               script_file=SCRIPT, rows=[("parse", SCRIPT)], share_url=SHARE_URL))
    wait_until_drawn(page)
    yield page
    assert page.problems.errors == [] and page.problems.dialogs == []


def tree_labels(page) -> list[str]:
    """The label of every node of the tree the graph now shows, root first."""
    return page.evaluate(f"""() => {{
        const graph = {GRAPH}; const scene = graph.scene();
        return Array.from({{ length: graph.tree.n }}, (_, node) => scene.labelOf(node));
    }}""")


def toggle(page, name: str) -> None:
    page.locator("#flamegraph .fg-transforms button", has_text=name).click()


def test_each_transform_changes_the_drawn_frames(views_page):
    page = views_page
    before = snapshot(page)
    assert before["total"] == 100 and tree_labels(page).count("fib") == 3

    toggle(page, "Only my code")
    mine = snapshot(page)
    labels = tree_labels(page)
    assert mine["total"] == 100, "only my code keeps every sample"
    assert "decode" not in labels and "_bootstrap" not in labels and "work" in labels
    assert mine["drawnFrames"] < before["drawnFrames"]
    assert page.locator("#flamegraph .fg-transforms .fg-toggle[aria-pressed='true']").all_text_contents() == ["Only my code"]

    toggle(page, "Collapse recursion")
    assert tree_labels(page).count("fib") == 1 and snapshot(page)["total"] == 100

    toggle(page, "Merge comprehensions")
    assert "<listcomp>" not in tree_labels(page)

    # zoom into parse (a click), then focus on it: only stacks through parse, rooted at it
    page.mouse.click(*centre_of(page, "parse"))
    page.locator("#flamegraph .fg-focus").click()
    focused = snapshot(page)
    assert focused["total"] == 45 and focused["zoom"] == [focused["zoom"][0]]
    assert page.locator("#flamegraph .fg-focus-name").text_content() == "Focused on parse"
    assert sorted(set(tree_labels(page)[1:])) == ["parse"], "with only my code, decode went into parse"

    toggle(page, "Only my code")  # off again: decode comes back under the focused parse
    assert "decode" in tree_labels(page)
    page.locator("#flamegraph .fg-focus-clear").click()
    assert snapshot(page)["total"] == 100


def test_sandwich_shows_both_callers_and_the_callees_of_a_picked_function(views_page):
    page = views_page
    page.locator("#hot tr").click()  # a hot-functions row picks parse (and highlights it)
    page.locator("#flamegraph .fg-tabs button", has_text="Sandwich").click()
    shown = snapshot(page)
    assert shown["tab"] == "sandwich" and page.locator("#flamegraph .fg-viewport").is_hidden()
    sandwich = shown["sandwich"]
    assert sandwich["visible"] and sandwich["title"] == "parse"
    assert sandwich["callers"] == ["parse", "main", "report", "main"], "called from main and from report"
    assert sandwich["callees"] == ["parse", "decode"]
    assert "Self: 15 samples (15.0 %)" in sandwich["figures"] and "Total: 45 samples (45.0 %)" in sandwich["figures"]
    assert sandwich["drawn"] == 6

    # the search narrows the sandwich's own table; a row of it picks another function
    assert page.locator("#flamegraph .fg-sandwich-table tbody tr").count() == 1  # the highlight searched "parse"
    page.locator("#flamegraph .fg-search").fill("fib")
    page.locator("#flamegraph .fg-search").press("Enter")  # the first (only) row the search left
    assert snapshot(page)["sandwich"]["callees"] == ["fib", "fib", "fib"]
    toggle(page, "Collapse recursion")  # transforms apply here too
    fib = snapshot(page)["sandwich"]
    assert fib["callers"] == ["fib", "main"] and fib["callees"] == ["fib"]
    assert page.locator("#flamegraph .fg-sandwich-table tr[aria-selected='true']").text_content().startswith("fib")
    page.locator("#flamegraph .fg-search").fill("")
    page.locator("#flamegraph .fg-sandwich-table tbody tr", has_text="report").click()  # a row picks too
    assert snapshot(page)["sandwich"]["callers"] == ["report", "main"]

    page.locator("#flamegraph .fg-tabs button", has_text="Flamegraph").click()
    assert page.locator("#flamegraph .fg-viewport").is_visible() and snapshot(page)["drawnFrames"] > 0
    page.mouse.click(*centre_of(page, "fib"))  # a frame zoomed into is the next one picked
    page.locator("#flamegraph .fg-tabs button", has_text="Sandwich").click()
    assert snapshot(page)["sandwich"]["title"] == "fib"


def test_the_view_lives_in_the_url_back_walks_it_and_a_copied_link_restores_it(views_page, browser, harness):
    page = views_page
    page_url = page.url
    page.locator("#flamegraph .fg-view").select_option(label="MainThread \u2014 75 samples")
    toggle(page, "Collapse recursion")
    page.mouse.click(*centre_of(page, "fib"))
    page.locator("#flamegraph .fg-search").fill("fi")
    zoomed = snapshot(page)
    assert zoomed["view"] == "thread-0" and zoomed["zoom"][-1] == "fib"
    fragment = page.evaluate("location.hash")
    assert "v=thread-0" in fragment and "t=recursion" in fragment and "q=fi" in fragment and "z=" in fragment

    page.locator("button[data-copy-view]").click()
    link = page.locator("button[data-copy-view]").get_attribute("data-link")
    assert link == SHARE_URL + fragment

    page.go_back()  # the search was typed into the zoom's entry: Back undoes the zoom
    assert len(snapshot(page)["zoom"]) == 1 and page.evaluate("location.hash") == "#v=thread-0&t=recursion"
    page.go_back()
    assert snapshot(page)["transforms"] == "" and snapshot(page)["view"] == "thread-0"
    page.go_forward()
    page.go_forward()
    assert snapshot(page)["zoom"] == zoomed["zoom"]
    page.evaluate("location.hash = 'L3'")  # an anchor of the page (a source line) is not a view
    assert page.evaluate("location.hash") == "#L3" and snapshot(page)["zoom"] == zoomed["zoom"]

    # the copied link, opened by someone else (a fresh browser context) on this page
    context = browser.new_context()
    try:
        fresh = context.new_page()
        fresh.goto(page_url.split("#")[0] + fragment)
        wait_until_drawn(fresh)
        restored = snapshot(fresh)
        assert restored["view"] == "thread-0" and restored["zoom"] == zoomed["zoom"]
        assert restored["transforms"] == "recursion" and restored["match"] == zoomed["match"] != ""
        assert fresh.locator("#flamegraph .fg-search").input_value() == "fi"
    finally:
        context.close()
