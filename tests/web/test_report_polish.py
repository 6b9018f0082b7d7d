"""The report page's finish: human sizes, short locations, each download once, the script
shown and downloadable, output labelled, tracebacks without the server's scratch paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import update

from .conftest import insert_done_report
from webapp.pipeline import without_scratch_paths
from webapp.store import Report
from webapp.units import human_size
from webapp.views.presenters import display_file

SCRIPT = "def spin():\n    return '<b>not html</b>'\n"


@pytest.mark.parametrize("size, shown", [
    (0, "0 bytes"), (1, "1 byte"), (321, "321 bytes"), (1023, "1023 bytes"), (1024, "1 KiB"),
    (1536, "1.5 KiB"), (10 * 1024 + 300, "10 KiB"), (1_048_576, "1 MiB"), (5 * 1024**3, "5 GiB"),
])
def test_sizes_are_shown_in_binary_units(size, shown):
    assert human_size(size) == shown


@pytest.mark.parametrize("path, shown", [
    ("/jobs/17/busy.py", "busy.py"),
    ("busy.py", "busy.py"),
    ("/usr/lib/python3.11/json/decoder.py", "json/decoder.py"),
    ("/usr/lib/python3.11/threading.py", "threading.py"),
    ("/srv/venv/lib/python3.12/site-packages/requests/api.py", "requests/api.py"),
    ("C:\\Python311\\Lib\\site-packages\\numpy\\core\\fromnumeric.py", "numpy/core/fromnumeric.py"),
    ("/home/me/project/pkg/util.py", "pkg/util.py"),
    ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>"),
    ("", ""),
])
def test_locations_are_shortened_one_way(path, shown):
    assert display_file(path, "busy.py") == shown


def test_tracebacks_name_the_script_not_the_scratch_directory(tmp_path: Path):
    job = tmp_path / "jobs" / "17"
    text = (f'Traceback (most recent call last):\n  File "{job}/script.py", line 3, in <module>\n'
            f'  File "{job}/helper.py", line 1, in f\nValueError: boom\n')
    cleaned = without_scratch_paths(text, job, f"{job}/script.py", "bench.py")
    assert str(tmp_path) not in cleaned
    assert 'File "bench.py", line 3' in cleaned and 'File "helper.py", line 1' in cleaned


def test_the_report_shows_sizes_labels_downloads_once_and_the_escaped_script(client, store):
    report = insert_done_report(store, "busy.py")
    with store.writing() as session:
        session.execute(update(Report).where(Report.id == report.id).values(script_source=SCRIPT))
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    metrics = page[page.index('id="static-metrics"'):page.index("</table>", page.index('id="static-metrics"'))]
    assert "321 bytes" in metrics and "bytes</span>" not in metrics  # the file size, not "321 <unit>bytes"
    for name in ("profile.speedscope.json", "profile.collapsed.txt", "stdout.txt"):
        assert page.count(f'href="/r/{report.token}/{name}"') == 1, name
    assert re.search(r'<h3 class="output-label">stdout</h3>', page)
    assert re.search(r">stdout</a>", page)  # the download's label too
    # The script, escaped, in a <details>, and its download.
    assert "&lt;b&gt;not html&lt;/b&gt;" in page and "<b>not html</b>" not in page
    assert f'href="/r/{report.token}/script"' in page
    download = client.get(f"/r/{report.token}/script")
    assert download.status_code == 200 and download.get_data(as_text=True) == SCRIPT
    assert download.headers["Content-Disposition"] == 'attachment; filename="busy.py"'
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_report_without_a_script_offers_none(client, store):
    report = insert_done_report(store, "imported.speedscope.json")
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    assert f'/r/{report.token}/script"' not in page
    assert client.get(f"/r/{report.token}/script").status_code == 404


def test_complexity_rows_lead_to_the_sampled_function(client, store):
    report = insert_done_report(store, "busy.py")
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    complexity = page[page.index('id="complexity"'):]
    # ... and to its def line in the source view (data-source-file: the file it is in)
    assert ('<tr data-source-file="busy.py" data-flame-name="spin" data-flame-file="/jobs/1/busy.py" tabindex="0">'
            in complexity)
    hot = page[page.index('id="hot-functions"'):page.index("</table>", page.index('id="hot-functions"'))]
    assert hot.count('tabindex="0"') == 2  # every hot-function row is reachable from the keyboard
