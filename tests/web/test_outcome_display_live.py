"""A report says how the script ended: real scripts, real py-spy, the real job runner.

A run that raised or exited non-zero has no green "Done" badge; a run without samples
does not lead with "Open in speedscope", offers no empty files, and its API document
says the profile files are missing and why. Function rows name definition lines.
"""

from __future__ import annotations

import ast
import re

import pytest

from .conftest import make_app
from webapp.store import DONE, FAILED, Report

pytestmark = pytest.mark.slow

WORK = (
    "import statistics\n"
    "import time\n"
    "\n"
    "\n"
    "def crunch(seconds):\n"
    "    # a comment, so the first sampled line is not the def line\n"
    "    end = time.monotonic() + seconds\n"
    "    while time.monotonic() < end:\n"
    "        statistics.fmean(float(i) for i in range(2000))\n"
    "\n"
    "\n"
    "crunch(0.8)\n"
)
RAISES = WORK + "raise ValueError('bad input')\n"
EXITS = WORK + "import sys\nsys.exit(3)\n"
ONLY_WAITS = "import time\ntime.sleep(1)\n"  # sampled GIL-only: a sleeping thread never holds the GIL


@pytest.fixture
def app(data_dir):
    yield from make_app(data_dir)


def run(app, code: str, **options) -> tuple[Report, str, dict]:
    """Submit ``code``, run its job here and now, and return the row, the page and the API document."""
    client = app.test_client()
    form = {"code": code, "duration": "10", "rate": "100"} | {k: "on" for k, v in options.items() if v}
    created = client.post("/api/v1/reports", data=form)
    assert created.status_code == 202, created.get_json()
    token = created.get_json()["id"]
    store = app.extensions["flamedeck.store"]
    with store.reading() as session:
        report_id = session.query(Report.id).filter_by(token=token).scalar()
    app.extensions["flamedeck.queue"].runner.run(report_id)
    with store.reading() as session:
        report = session.get(Report, report_id)
    return report, client.get(f"/r/{token}").get_data(as_text=True), client.get(f"/api/v1/reports/{token}").get_json()


def badge(page: str) -> tuple[str, str]:
    match = re.search(r'<span class="badge status-(\w+)">([^<]*)</span>', page)
    return match.group(1), match.group(2)


def test_a_script_that_finished_is_done_and_its_rows_name_definition_lines(app):
    report, page, document = run(app, WORK)
    assert report.status == DONE and badge(page) == ("done", "Done")
    defs = {node.name: node.lineno for node in ast.walk(ast.parse(WORK)) if isinstance(node, ast.FunctionDef)}
    every_row = document["summary"]["hot_functions"]
    rows = {row["name"]: row for row in every_row if row["file"] == report.script_name}
    assert (rows["crunch"]["line"], rows["crunch"]["line_is_definition"]) == (defs["crunch"], True)
    assert (rows["<module>"]["line"], rows["<module>"]["line_is_definition"]) == (1, True)
    stdlib = [row for row in every_row if row["file"].endswith("statistics.py")]
    assert stdlib and not any(row["line_is_definition"] for row in stdlib)
    hot = page[page.index('id="hot-functions"'):page.index("</table>", page.index('id="hot-functions"'))]
    assert f"{report.script_name}:{defs['crunch']}" in hot
    assert "first sampled line" in hot  # the statistics rows say what their line is
    assert document["profile_files"] == {"available": True}
    assert {"profile.speedscope.json", "profile.functions.speedscope.json"} <= set(document["artifacts"])


@pytest.mark.parametrize(("code", "label", "said"), [
    (RAISES, "Script raised an error", "The script raised ValueError: bad input."),
    (EXITS, "Exited with code 3", "The script exited with code 3"),
])
def test_a_script_that_failed_has_no_green_done_badge(app, code, label, said):
    report, page, document = run(app, code)
    assert report.status == DONE  # the profile is still a result worth showing ...
    assert badge(page) == ("failed", label)  # ... but not a success
    assert ">Done<" not in page and said in page
    assert "Open in speedscope" in page and document["profile_files"] == {"available": True}


def test_a_run_without_samples_offers_nothing_empty(app):
    report, page, document = run(app, ONLY_WAITS, gil=True)
    assert report.status == FAILED and badge(page) == ("failed", "No samples")
    assert "The profiler took no samples" in page
    assert "Open in speedscope" not in page and 'class="card toolbar"' not in page
    for name in ("profile.speedscope.json", "profile.collapsed.txt", "flamegraph.svg", "stderr.txt"):
        assert f"/{name}\"" not in page  # stderr is empty: not offered either
    assert not set(document["artifacts"]) & {"profile.speedscope.json", "flame.json", "profile.collapsed.txt"}
    assert document["profile_files"]["available"] is False
    assert "The profiler took no samples" in document["profile_files"]["reason"]
    assert "speedscope_url" not in document
