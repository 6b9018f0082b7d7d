"""The report page: live status while pending, the full report when done; 404 for unknown links."""

from __future__ import annotations

import re

from sqlalchemy import update

from .conftest import body_region, insert_done_report, sample_summary
from webapp.store import SCRIPT, Report
from webapp.store.lifecycle import claim, insert_queued


def queued_report(store, name="wait.py") -> Report:
    with store.writing() as session:
        return insert_queued(session, kind=SCRIPT, script_name=name, script_source="x = 1\n",
                             options={"duration_s": 10, "rate_hz": 100, "args": []})


def test_a_done_report_shows_both_tables_threads_output_and_downloads(client, store):
    report = insert_done_report(store, "busy.py")
    response = client.get(f"/r/{report.token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>busy.py</h1>" in page and "The script finished normally." in page
    assert "2 s at 100 Hz, GIL only, args: --runtime 1" in page
    hot = page[page.index('id="hot-functions"'):page.index("</table>", page.index('id="hot-functions"'))]
    assert "<code>spin</code>" in hot and "busy.py:3" in hot and ">75.0<" in hot
    metrics = page[page.index('id="static-metrics"'):]
    for label in ("File size", "Lines of code", "Functions", "Classes", "Imports", "Complexity score",
                  "Maintainability index"):
        assert f"<th scope=\"row\">{label}</th>" in metrics
    complexity = page[page.index('id="complexity"'):]
    assert re.search(r"<code>spin</code>.*?rank-A.*?>75\.0<", complexity, re.S)  # rank beside runtime share
    assert "MainThread" in page[page.index('id="threads"'):]
    assert '<section id="flamegraph"' in page
    assert f'href="/r/{report.token}/profile.speedscope.json"' in page
    assert f'href="/r/{report.token}/profile.collapsed.txt"' in page
    speedscope = f'/speedscope/index.html#profileURL=%2Fr%2F{report.token}%2Fprofile.speedscope.json'
    assert speedscope in page
    assert f'data-copy="http://flamedeck.test/r/{report.token}"' in page
    assert "hx-trigger" not in page  # finished: nothing polls


def test_user_data_is_escaped_never_rendered_as_html(client, store):
    summary = sample_summary("evil.py")
    summary["hot_functions"][0]["name"] = "<script>alert(1)</script>"
    report = insert_done_report(store, "<img src=x onerror=alert(1)>.py", summary)
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "hello &lt;b&gt;world&lt;/b&gt;" in page  # the script's stdout, in a <pre>


def test_a_pending_report_polls_itself_and_the_partial_is_just_the_region(client, store):
    report = queued_report(store)
    page = client.get(f"/r/{report.token}")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert f'hx-get="/r/{report.token}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert "Position in the queue" in html and "<html" in html
    partial = client.get(f"/r/{report.token}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body_region(partial) and "<html" not in partial
    assert 'hx-trigger="every 1s"' in partial


def test_a_running_report_shows_progress_against_the_time_limit(client, store):
    report = queued_report(store)
    with store.writing() as session:
        claim(session, report.id, lease_s=30)
        session.execute(update(Report).where(Report.id == report.id).values(progress_s=4.0))
    partial = client.get(f"/r/{report.token}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert '<progress class="progress" value="4.0" max="10.0"' in partial
    assert "Profiling" in partial
    assert 'class="cancel-form"' not in partial  # only the submitting browser gets one (see test_cancel.py)


def test_when_the_job_ends_the_region_renders_without_its_trigger(client, store):
    report = insert_done_report(store)
    partial = client.get(f"/r/{report.token}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body_region(partial)
    assert "hx-trigger" not in partial and 'id="hot-functions"' in partial


def test_an_unknown_token_gets_a_404_page(client):
    response = client.get("/r/not-a-real-token")
    assert response.status_code == 404
    assert "There is no report at this address" in response.get_data(as_text=True)
    api = client.get("/api/v1/reports/not-a-real-token")
    assert api.status_code == 404 and "no report" in api.get_json()["error"]


def test_the_api_returns_the_summary_and_artifact_urls_when_done(client, store):
    report = insert_done_report(store)
    document = client.get(f"/api/v1/reports/{report.token}").get_json()
    assert document["status"] == "done"
    assert document["summary"]["hot_functions"][0]["name"] == "spin"
    assert set(document["summary"]) >= {"total_samples", "unique_functions", "hot_functions", "static_metrics",
                                        "outcome", "threads"}
    assert document["artifacts"]["profile.speedscope.json"] == (
        f"http://flamedeck.test/r/{report.token}/profile.speedscope.json")
    assert document["speedscope_url"].startswith("http://flamedeck.test/speedscope/index.html#profileURL=")
    assert document["outcome"]["status"] == "finished"


def test_a_long_hot_function_list_is_cut_at_the_configured_rows(app, client, store):
    app.config["HOT_FUNCTION_ROWS"] = 1
    report = insert_done_report(store)
    page = client.get(f"/r/{report.token}").get_data(as_text=True)
    hot = page[page.index('id="hot-functions"'):page.index("</section>", page.index('id="hot-functions"'))]
    assert "<code>spin</code>" in hot and "<code>main</code>" not in hot
    assert "1 more function with less self time is not listed here" in hot
