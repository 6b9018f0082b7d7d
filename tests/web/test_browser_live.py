"""A new user's path in a real Chromium: upload an example, watch it finish, download, share, open in speedscope."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from .live import PROJECT_ROOT, free_port, serve

pytestmark = pytest.mark.slow

EXAMPLE = PROJECT_ROOT / "examples" / "server_simulation.py"
SPEEDSCOPE_SCHEMA = PROJECT_ROOT / "static" / "vendor" / "speedscope" / "file-format-schema.json"
REPORT_TIMEOUT_MS = 60_000
SPEEDSCOPE_LOAD_TIMEOUT_S = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("browser"), free_port(), workers=1) as (_process, base_url):
        yield base_url


def watch_console(page) -> list[str]:
    """Collect console errors (a CSP violation shows up as one) and uncaught exceptions."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@pytest.fixture(scope="module")
def finished_report(server, browser):
    """Upload the example through the form, as a user would; wait for the finished report."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    problems = watch_console(page)
    page.goto(server + "/")
    page.set_input_files("#script", str(EXAMPLE))
    page.fill("#duration", "5")
    page.fill("#args", "--runtime 1")
    page.click("button:has-text('Profile')")
    # htmx swaps the live status box in and puts the report's link in the address bar.
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22,}$"))
    page.wait_for_selector("#hot-functions", timeout=REPORT_TIMEOUT_MS)
    yield context, page, problems
    context.close()


def test_the_uploaded_example_finishes_with_both_tables(finished_report):
    _context, page, problems = finished_report
    assert page.inner_text("h1") == "server_simulation.py"
    hot = page.inner_text("#hot-functions")
    assert "fibonacci" in hot or "is_prime" in hot
    metrics = page.inner_text("#static-metrics")
    assert "Lines of code" in metrics and "Maintainability index" in metrics
    assert page.locator("#complexity tbody tr").count() > 0
    assert page.locator("[hx-trigger]").count() == 0  # polling stopped
    if page.get_attribute("#flamegraph", "data-flame-url"):  # once the pipeline exports flame.json
        page.wait_for_selector("#flamegraph canvas")
    assert problems == []


def test_the_hot_functions_table_sorts_by_a_clicked_column(finished_report):
    _context, page, _problems = finished_report
    page.click("#hot-functions th:has-text('Total %')")
    cells = page.locator("#hot-functions tbody td:nth-child(7)").all()
    totals = [float(cell.get_attribute("data-value")) for cell in cells]
    assert totals == sorted(totals, reverse=True)


def test_the_speedscope_download_is_valid(finished_report):
    jsonschema = pytest.importorskip("jsonschema")
    _context, page, _problems = finished_report
    with page.expect_download() as download_info:
        page.click("a.button:has-text('Speedscope profile')")
    download = download_info.value
    assert download.suggested_filename == "server_simulation.speedscope.json"
    document = json.loads(Path(download.path()).read_text())
    jsonschema.validate(document, json.loads(SPEEDSCOPE_SCHEMA.read_text()))
    with page.expect_download() as download_info:
        page.click("a.button:has-text('Collapsed stacks')")
    assert download_info.value.suggested_filename == "server_simulation.collapsed.txt"
    assert ";" in Path(download_info.value.path()).read_text()


def test_the_link_shows_the_same_report_in_a_fresh_browser_profile(finished_report, browser):
    _context, page, _problems = finished_report
    fresh = browser.new_context()
    try:
        other = fresh.new_page()
        problems = watch_console(other)
        other.goto(page.url)
        assert other.inner_text("h1") == page.inner_text("h1")
        # Same rows (the first page's table may have been re-sorted by another test).
        assert sorted(other.inner_text("#hot-functions tbody").splitlines()) == sorted(
            page.inner_text("#hot-functions tbody").splitlines())
        assert problems == []
    finally:
        fresh.close()


def test_open_in_speedscope_loads_the_profile_in_the_bundled_viewer(finished_report):
    context, page, _problems = finished_report
    with context.expect_page() as new_page_info:
        page.click("a:has-text('Open in speedscope')")
    viewer = new_page_info.value
    problems = watch_console(viewer)
    # speedscope names the tab after the loaded profile once it has parsed it. (Polled from
    # here: playwright's wait_for_function evaluates a string, which the CSP rightly forbids.)
    deadline = time.monotonic() + SPEEDSCOPE_LOAD_TIMEOUT_S
    while "server_simulation" not in viewer.title():
        assert time.monotonic() < deadline, f"speedscope did not load the profile: title {viewer.title()!r}"
        viewer.wait_for_timeout(100)
    assert viewer.title().endswith("speedscope")
    assert viewer.locator("canvas").count() > 0
    assert not [problem for problem in problems if "Content Security Policy" in problem or "Refused" in problem]
