"""The report page in a real Chromium, as a phone user and a keyboard user meet it.

One real ``flamedeck serve`` runs for the module and one example is submitted through
the form, at phone size, once: that journey (submit -> report -> Back -> Forward) is
watched for Content-Security-Policy violations and console errors, and the other tests
open the finished report it made in fresh browser contexts.
"""

from __future__ import annotations

import re
import urllib.request

import pytest
from flamegraph.conftest import PageProblems
from flamegraph.support import wait_until_drawn

from webapp.analysis.stats import function_stats
from webapp.profiles import load_profile

from .live import PROJECT_ROOT, free_port, serve

pytestmark = pytest.mark.slow

EXAMPLE = PROJECT_ROOT / "examples" / "multi_threaded.py"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REPORT_TIMEOUT_MS = 60_000
WORKER_FUNCTIONS = ("hash_blocks", "sort_lists", "count_primes", "multiply_matrices")  # one per thread

# Runs before any page script: every CSP violation and every theme change of the page's life.
RECORD_PAGE_EVENTS = """
window.__cspViolations = [];
window.__themeChanges = 0;
document.addEventListener("securitypolicyviolation", (event) =>
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`));
document.addEventListener("flamedeck:themechange", () => { window.__themeChanges += 1; });
"""
GRAPHS_DRAWN = "performance.getEntriesByName('flamegraph:drawn').length"
SERIOUS_AXE_VIOLATIONS = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + n.failureSummary).join(" | ")}`);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("report-page")
    with serve(directory / "data", free_port(), workers=1, log_path=directory / "serve.log") as (_process, base_url):
        yield base_url


@pytest.fixture(scope="module")
def journey(server, browser) -> dict:
    """Submit the example on a phone, then Back and Forward; what was seen on the way."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(RECORD_PAGE_EVENTS)
    page = context.new_page()
    problems = PageProblems(page)
    seen: dict = {}
    try:
        page.goto(server + "/")
        page.set_input_files("#script", str(EXAMPLE))
        page.fill("#duration", "5")
        page.fill("#args", "--runtime 1")
        page.locator("button:has-text('Profile')").scroll_into_view_if_needed()
        page.click("button:has-text('Profile')")
        page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22,}$"))
        notice = page.locator(".delete-token-notice")
        notice.wait_for()
        seen["notice_box"] = notice.bounding_box()
        seen["scroll_y"] = page.evaluate("window.scrollY")
        page.wait_for_selector("#hot-functions", timeout=REPORT_TIMEOUT_MS)
        wait_until_drawn(page)
        seen["url"] = page.url
        seen["phone_layout"] = page.evaluate("""() => {
          const rows = [...document.querySelectorAll('#hot-functions tbody tr')].slice(0, 10);
          return rows.map((row) => {
            const name = row.querySelector('.fn-name');
            const cells = [...row.cells].filter((cell) => cell.classList.contains('bar-cell'));
            return {
              title: name.title, text: name.textContent.trim(),
              nameLines: Math.round(name.querySelector('code').getBoundingClientRect().height /
                                    parseFloat(getComputedStyle(name.querySelector('code')).lineHeight || 16)),
              whiteSpace: getComputedStyle(name.querySelector('code')).whiteSpace,
              percentRights: cells.map((cell) => cell.getBoundingClientRect().right),
              percentVisible: cells.map((cell) => cell.getBoundingClientRect().width > 0),
            };
          });
        }""")
        seen["viewport_width"] = page.evaluate("window.innerWidth")

        page.go_back()
        page.wait_for_selector("#script")
        page.go_forward()
        page.wait_for_selector("#hot-functions")
        page.wait_for_function(f"() => {GRAPHS_DRAWN} >= 2")
        seen["graphs_after_forward"] = page.locator("#flamegraph .fg").count()
        seen["canvases_after_forward"] = page.locator("#flamegraph canvas").count()
        seen["notices_after_forward"] = page.locator(".delete-token-notice").count()
        seen["csp_violations"] = page.evaluate("window.__cspViolations")
        seen["errors"] = problems.errors
        return seen
    finally:
        context.close()


def test_no_csp_violation_or_console_error_from_submit_to_back_and_forward(journey):
    assert journey["csp_violations"] == []
    assert journey["errors"] == []


def test_forward_after_back_shows_one_working_flamegraph_and_no_delete_token(journey):
    assert journey["graphs_after_forward"] == 1
    assert journey["canvases_after_forward"] == 1
    assert journey["notices_after_forward"] == 0  # shown once, not kept in htmx's history copy


def test_after_submit_the_report_top_and_its_delete_token_are_in_view(journey):
    box = journey["notice_box"]
    assert box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 200) <= PHONE["height"]


def test_on_a_phone_names_stay_whole_and_the_shares_stay_on_screen(journey):
    rows = journey["phone_layout"]
    assert rows, "the hot-functions table is empty"
    for row in rows:
        assert row["whiteSpace"] == "nowrap" and row["title"] == row["text"]
        assert all(row["percentVisible"]), row
        assert all(right <= journey["viewport_width"] for right in row["percentRights"]), row


def axe_violations(page) -> list[str]:
    assert AXE.exists(), f"{AXE} is missing: run .ci/setup --test (axe-core is a devDependency)"
    page.add_script_tag(path=str(AXE))
    return page.evaluate(SERIOUS_AXE_VIOLATIONS)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_the_home_page_and_a_report(browser, server, journey, scheme):
    # axe is added as a script of the page, which the page's own CSP would rightly refuse.
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(server + "/")
        assert page.evaluate("getComputedStyle(document.body).colorScheme || ''") in ("", "normal", "light dark")
        assert axe_violations(page) == []
        page.goto(journey["url"])
        wait_until_drawn(page)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(15, 17, 21)") == (scheme == "dark")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_the_theme_toggle_cycles_is_remembered_and_announced(browser, server, journey):
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    context.add_init_script(RECORD_PAGE_EVENTS)
    try:
        page = context.new_page()
        problems = PageProblems(page)
        page.goto(journey["url"])
        toggle = page.locator("[data-theme-toggle]")
        assert toggle.inner_text() == "Theme: auto" and page.evaluate("document.documentElement.dataset.theme") is None
        toggle.click()
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        toggle.click()
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.evaluate("window.__themeChanges") == 2
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 17, 21)"
        page.reload()
        # Applied by the script in <head>, before the body is painted.
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.locator("[data-theme-toggle]").inner_text() == "Theme: dark"
        page.locator("[data-theme-toggle]").click()
        assert page.evaluate("document.documentElement.dataset.theme") is None
        assert page.evaluate("localStorage.getItem('flamedeck.theme')") is None
        # Following the system again: the system's switch to dark is the page's, and announced.
        page.emulate_media(color_scheme="dark")
        page.wait_for_function("() => window.__themeChanges === 2")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 17, 21)"
        assert problems.errors == [] and page.evaluate("window.__cspViolations") == []
    finally:
        context.close()


def thread_rows(url: str, function: str, rows: int) -> tuple[int, list[tuple]]:
    """The index of the thread running ``function`` and (name, self, total) of its top
    functions, by the server's own counting rules, from the report's profile download."""
    with urllib.request.urlopen(url + "/profile.speedscope.json") as response:
        profile = load_profile(response.read(), "profile.speedscope.json")
    for index, thread in enumerate(profile.threads):
        stats = function_stats(profile, [thread])
        if any(s.name == function for s in stats):
            return index, [(s.name, s.self_samples, s.total_samples) for s in stats[:rows]]
    raise AssertionError(f"no thread ran {function}")


def test_tables_follow_the_thread_and_rows_work_from_the_keyboard(browser, journey):
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(RECORD_PAGE_EVENTS)
    try:
        page = context.new_page()
        problems = PageProblems(page)
        page.goto(journey["url"])
        wait_until_drawn(page)

        # The first Tab reaches the skip link; Enter moves the focus to the report.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the report"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "report"

        # The hashing worker's row in the Threads table, from the keyboard.
        all_threads = page.locator("#hot-functions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.flameName)")
        where = ("rows => Object.fromEntries(rows.map(r => [r.dataset.flameName + ' ' + r.dataset.flameFile,"
                 " r.cells[2].textContent.replace(/\\s+/g, ' ').trim()]))")
        server_locations = page.locator("#hot-functions tbody tr").evaluate_all(where)
        rows = int(page.get_attribute("#hot-functions", "data-rows"))
        index, expected = thread_rows(journey["url"], "hash_blocks", rows)
        worker = page.locator(f'#threads tr[data-flame-view="thread-{index}"]')
        worker.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('#threads tr[aria-current]') !== null")
        selected_label = page.evaluate("document.querySelector('#flamegraph select.fg-view').selectedOptions[0].text")
        assert selected_label.split(" \u2014 ")[0] in worker.inner_text()
        assert "only" in page.inner_text("[data-table-scope]")

        shown = page.evaluate("""() => [...document.querySelectorAll('#hot-functions tbody tr')].map((row) =>
            [row.dataset.flameName, Number(row.cells[3].dataset.value), Number(row.cells[5].dataset.value)])""")
        assert [tuple(row) for row in shown] == expected
        names = {row[0] for row in shown}
        assert names & set(WORKER_FUNCTIONS) == {"hash_blocks"}, "the hashing thread runs no other worker"
        # Locations are written the same way as the server writes them.
        thread_locations = page.locator("#hot-functions tbody tr").evaluate_all(where)
        common = thread_locations.keys() & server_locations.keys()
        assert len(common) >= 3
        assert {key: thread_locations[key] for key in common} == {key: server_locations[key] for key in common}
        assert shown != all_threads

        # The complexity table shows the thread's shares too.
        worker_function = "hash_blocks"
        total_share = page.get_attribute(f'#complexity tr[data-flame-name="{worker_function}"] td:nth-child(6)', "data-value")
        hot_total = page.get_attribute(f'#hot-functions tr[data-flame-name="{worker_function}"] td:nth-child(7)', "data-value")
        assert float(total_share) == pytest.approx(float(hot_total))

        # Enter on a complexity row highlights that function in the flamegraph.
        page.locator(f'#complexity tr[data-flame-name="{worker_function}"]').focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => /matched/.test(document.querySelector('#flamegraph .fg-match').textContent)")
        assert page.input_value("#flamegraph .fg-search") == worker_function

        # Back to all threads in the flamegraph's menu: the server's rows again.
        page.select_option("#flamegraph select.fg-view", index=0)
        assert "all threads" in page.inner_text("[data-table-scope]")
        assert page.locator("#hot-functions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.flameName)") == all_threads
        assert problems.errors == [] and page.evaluate("window.__cspViolations") == []
    finally:
        context.close()
