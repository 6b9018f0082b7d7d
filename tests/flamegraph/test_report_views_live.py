"""Issue 13's browser test on real runs: `flamedeck serve`, the sandboxed worker, real py-spy and
coverage.py, real Chromium. One report page per run, each checking several things."""

from __future__ import annotations

import ast
import re

import pytest

from tests.web.live import free_port, http_json, serve, wait_until_ended

from .support import GRAPH, snapshot, wait_until_drawn

pytestmark = pytest.mark.slow

# CPU split 50/30/20 between the three calls of spin, interleaved in short rounds in a random order:
# a shared machine's changing load, py-spy's sampling clock and the sandbox's CPU-quota periods are
# all periodic or slow, and a fixed order would phase-lock with them. The work is in C (sum over a
# range), so the coverage run is hardly slower. A branch that never runs (no arguments are given)
# for coverage to grey.
SPLIT_SCRIPT = '''import random
import sys


def spin(n):
    return sum(range(n))


def half():
    spin(50_000)


def third():
    spin(30_000)


def fifth():
    spin(20_000)


if len(sys.argv) > 5:
    print("never")
else:
    calls = [half, third, fifth]
    for _ in range(4000):
        random.shuffle(calls)
        for call in calls:
            call()
'''
SPLIT = {"half": 0.5, "third": 0.3, "fifth": 0.2}
RATIO_TOLERANCE = 0.07  # a few points: sampling noise and a shared machine


def line_of(source: str, predicate) -> int:
    return next(node.lineno for node in ast.walk(ast.parse(source)) if predicate(node))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Two finished reports on one live server: the split script and the server_simulation example."""
    directory = tmp_path_factory.mktemp("report-views")
    with serve(directory / "data", free_port(), workers=2, log_path=directory / "serve.log",
               COVERAGE_BY_DEFAULT=True) as (_process, base):
        status, split = http_json("POST", f"{base}/api/v1/reports",
                                  {"code": SPLIT_SCRIPT, "duration": "20", "rate": "250"})
        assert status == 202, split
        status, example = http_json("POST", f"{base}/api/v1/reports",
                                    {"example": "server_simulation", "duration": "10", "rate": "1000",
                                     "args": "--runtime 2"})  # fast enough to catch its imports and random's calls
        assert status == 202, example
        documents = {name: wait_until_ended(base, created["id"], timeout_s=120)
                     for name, created in (("split", split), ("example", example))}
        for document in documents.values():
            assert document["status"] == "done", document["outcome"]
        yield {name: f"{base}/r/{documents[name]['id']}" for name in documents}


def test_the_source_view_shows_the_split_line_by_line_greys_the_branch_that_never_ran_and_the_sandwich_both_callers(
        page, reports):
    page.goto(reports["split"])
    wait_until_drawn(page)
    calls = {name: line_of(SPLIT_SCRIPT, lambda node, n=name: isinstance(node, ast.FunctionDef) and node.name == n) + 1
             for name in SPLIT}
    totals = {name: int(page.locator(f"#L{line}").get_attribute("data-total")) for name, line in calls.items()}
    whole = sum(totals.values())
    assert whole > 100, totals
    for name, share in SPLIT.items():
        assert abs(totals[name] / whole - share) <= RATIO_TOLERANCE, (name, totals)

    never = line_of(SPLIT_SCRIPT, lambda node: isinstance(node, ast.Expr) and "never" in ast.unparse(node))
    assert "src-missed" in page.locator(f"#L{never}").get_attribute("class")
    assert all("src-missed" not in page.locator(f"#L{line}").get_attribute("class") for line in calls.values())
    assert "Greyed lines never ran" in page.locator("#source .src-coverage").text_content()
    assert page.locator("#static-metrics #coverage-branches td").text_content() != "100.0 %"

    # a hot-functions row of the script's function opens the source at its def (a step in the URL),
    # and picks it for the sandwich: spin is called from three places, all three are its callers
    page.locator('#hot-functions tbody tr[data-flame-name="spin"]').click()
    spin_def = line_of(SPLIT_SCRIPT, lambda node: isinstance(node, ast.FunctionDef) and node.name == "spin")
    assert page.locator("#source tr.src-current").get_attribute("id") == f"L{spin_def}"
    assert re.search(rf"tab=source&l={spin_def}\b", page.evaluate("location.hash"))
    page.locator("#flamegraph .fg-tabs button", has_text="Sandwich").click()
    sandwich = snapshot(page)["sandwich"]
    assert sandwich["title"] == "spin"
    assert {"half", "third", "fifth"} <= set(sandwich["callers"]), sandwich["callers"]
    assert page.problems.errors == [] and page.problems.dialogs == []


def test_only_my_code_removes_every_stdlib_frame_of_server_simulation_and_keeps_the_total(page, reports):
    page.goto(reports["example"])
    wait_until_drawn(page)
    origins = f"""() => {{
        const graph = {GRAPH};
        return Array.from(graph.tree.frame.slice(1), (frame) => graph.data.originOf(frame));
    }}"""
    before = snapshot(page)
    assert "stdlib" in page.evaluate(origins), "the example's profile holds standard-library frames"
    page.locator("#flamegraph .fg-transforms button", has_text="Only my code").click()
    mine = snapshot(page)
    assert mine["total"] == before["total"]
    assert set(page.evaluate(origins)) == {"script"}
    # the hot-functions table follows the transform: only the script's functions are left
    page.wait_for_function("() => document.querySelector('#hot-functions-section [data-table-scope]')"
                           ".textContent.includes('transforms')")
    files = page.locator("#hot-functions tbody tr").evaluate_all("rows => rows.map(row => row.dataset.flameFile)")
    assert files and set(files) == {"server_simulation.py"}
    assert page.problems.errors == [] and page.problems.dialogs == []
