"""Delete tokens (shown once, kept only as a hash) and retention (old reports go by themselves)."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from .conftest import insert_done_report, make_app, own_csrf_token, post_form, row
from .live import app_config, consumer, load, processes_mentioning, wait_for
from webapp import create_app
from webapp.jobs.reaper import jobs_dir, reap
from webapp.store import DONE, QUEUED, RUNNING, SCRIPT, Artifact, Report
from webapp.store.tables import DeletedReport
from webapp.store.lifecycle import insert_queued

PROFILE = Path(__file__).resolve().parents[1] / "fixtures" / "pyspy-single.speedscope.json"
TOKEN_ON_PAGE = re.compile(r'<code class="delete-token">([^<]+)</code>')
DAY_S = 86_400


@pytest.fixture
def app(data_dir, backend):
    """Deleting must work the same on SQLite and PostgreSQL: the app in each mode in turn."""
    yield from make_app(data_dir, **backend)


@pytest.fixture
def store(app):
    return app.extensions["flamedeck.store"]


def import_through_api(client) -> dict:
    """An imported profile: a finished report with artifacts, no worker needed."""
    with PROFILE.open("rb") as profile:
        response = client.post("/api/v1/reports", data={"profile": (profile, PROFILE.name)})
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def artifact_count(store, report_id: int) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(Artifact).where(Artifact.report_id == report_id))


def test_the_api_gives_a_delete_token_once_and_deletes_the_report_and_its_files_with_it(client, store):
    created = import_through_api(client)
    token, report_token = created["delete_token"], created["id"]
    report_id = row(store, report_token).id
    assert artifact_count(store, report_id) > 0
    # Read once, so that this process has the page and the file in its cache of finished reports.
    assert client.get(f"/r/{report_token}").status_code == 200
    assert client.get(f"/r/{report_token}/profile.speedscope.json").status_code == 200
    assert "delete_token" not in client.get(created["api_url"]).get_json()  # shown once: never again

    missing = client.delete(created["api_url"])
    wrong = client.delete(created["api_url"], headers={"X-Delete-Token": token[:-1] + ("y" if token.endswith("x") else "x")})
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert missing.get_json()["error"].startswith("No delete token was given, so the report was not deleted.")
    assert wrong.get_json()["error"].startswith("The delete token does not match this report")
    assert row(store, report_token) is not None

    deleted = client.delete(created["api_url"], headers={"X-Delete-Token": token})
    assert deleted.status_code == 204 and deleted.data == b""
    assert row(store, report_token) is None and artifact_count(store, report_id) == 0
    # Its link now says it was deleted (410), in JSON for the API; an unknown link stays 404.
    api, page = client.get(created["api_url"]), client.get(f"/r/{report_token}")
    assert api.status_code == 410 and api.get_json()["error"].startswith("This report was deleted")
    assert page.status_code == 410 and "This report was deleted" in page.get_data(as_text=True)
    assert client.get(f"/r/{report_token}/profile.speedscope.json").status_code == 410
    assert client.delete(created["api_url"], headers={"X-Delete-Token": token}).status_code == 410
    assert client.get(f"/r/{report_token[:-2]}xy").status_code == 404
    # The tombstone keeps a hash of the report's link, never the link itself.
    with store.reading() as session:
        tombstones = session.execute(select(DeletedReport.token_hash, DeletedReport.deleted_at)).all()
    assert [stone.token_hash for stone in tombstones] == [hashlib.sha256(report_token.encode()).hexdigest()]
    assert abs(tombstones[0].deleted_at - time.time()) < 60


RECHECK_S = 0.5


def test_another_web_process_stops_serving_a_deleted_report_within_report_recheck_s(client, data_dir, backend):
    for other_app in make_app(data_dir, REPORT_RECHECK_S=RECHECK_S, **backend):  # same database, own memory
        other = other_app.test_client()
        created = import_through_api(client)
        page, download = f"/r/{created['id']}", f"/r/{created['id']}/profile.speedscope.json"
        assert other.get(page).status_code == 200 and other.get(download).status_code == 200  # now in memory
        deleted_at = time.monotonic()
        assert client.delete(created["api_url"], headers={"X-Delete-Token": created["delete_token"]}).status_code == 204
        while other.get(page).status_code != 410 or other.get(download).status_code != 410:
            assert time.monotonic() - deleted_at < RECHECK_S + 1, "still served after REPORT_RECHECK_S"
            time.sleep(0.05)


def test_only_a_hash_of_the_delete_token_is_stored(client, store):
    response = client.post("/api/v1/reports", data={"code": "x = 1\n"})
    token = response.get_json()["delete_token"]
    stored = row(store, response.get_json()["id"])
    assert stored.delete_token_hash == hashlib.sha256(token.encode()).hexdigest()
    columns = [getattr(stored, column.key) for column in Report.__table__.columns]
    assert not any(token in str(value) for value in columns)


def test_the_page_after_submitting_shows_the_token_once_and_its_browser_gets_a_delete_button(client, store, app):
    submitted = post_form(client, {"source": "code", "code": "x = 1\n"})
    page_url = submitted.headers["Location"]
    first = client.get(page_url).get_data(as_text=True)
    shown = TOKEN_ON_PAGE.search(first)
    assert shown and "Keep this delete token" in first
    again = client.get(page_url).get_data(as_text=True)
    assert "Keep this delete token" not in again and shown.group(1) not in again
    assert 'class="delete-form"' in again  # this browser holds the token
    stranger = app.test_client()
    assert 'class="delete-form"' not in stranger.get(page_url).get_data(as_text=True)
    # The token shown on the page is the one the API accepts.
    report_token = page_url.rsplit("/", 1)[-1]
    assert stranger.delete(f"/api/v1/reports/{report_token}",
                           headers={"X-Delete-Token": shown.group(1)}).status_code == 204


def test_the_delete_button_removes_the_report_for_its_holder_only(client, store, app):
    submitted = post_form(client, {"source": "code", "code": "x = 1\n"})
    page_url = submitted.headers["Location"]
    client.get(page_url)  # the one-time notice
    stranger = app.test_client()
    refused = stranger.post(f"{page_url}/delete", data={"csrf_token": own_csrf_token(stranger)})
    assert refused.status_code == 403 and "No delete token was given" in refused.get_data(as_text=True)
    assert client.post(f"{page_url}/delete").status_code == 400  # no CSRF token: refused

    deleted = client.post(f"{page_url}/delete", data={"csrf_token": own_csrf_token(client)})
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "was deleted, with all its files" in home
    assert client.get(page_url).status_code == 410


def test_a_cached_finished_page_never_shows_one_readers_delete_button_to_another(client, app):
    with PROFILE.open("rb") as profile:
        submitted = post_form(client, {"profile": (profile, PROFILE.name)})
    page_url = submitted.headers["Location"]
    stranger = app.test_client()
    views = [stranger.get(page_url), client.get(page_url), client.get(page_url), stranger.get(page_url)]
    pages = [view.get_data(as_text=True) for view in views]
    assert all(view.status_code == 200 for view in views)
    assert ["delete-form" in page for page in pages] == [False, True, True, False]
    assert "Keep this delete token" in pages[1] and "Keep this delete token" not in pages[2]
    assert pages[0] == pages[3]  # the stranger's page, rendered once and kept


def test_an_htmx_delete_puts_the_home_page_in_the_report_s_place_and_history_entry(client):
    submitted = post_form(client, {"source": "code", "code": "x = 1\n"})
    report_token = submitted.headers["Location"].rsplit("/", 1)[-1]
    response = client.post(f"{submitted.headers['Location']}/delete", data={"csrf_token": own_csrf_token(client)},
                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (response.headers["HX-Replace-Url"], response.headers["HX-Retarget"]) == ("/", "#main")
    assert f'data-deleted-report="{report_token}"' in body and "was deleted, with all its files" in body
    assert 'id="submit-region"' in body and "<html" not in body


def age(store, report_id: int, days: float) -> None:
    with store.writing() as session:
        session.execute(update(Report).where(Report.id == report_id).values(created_at=time.time() - days * DAY_S))


def test_retention_removes_finished_reports_older_than_retention_days_and_nothing_else(app, store):
    old, recent = insert_done_report(store), insert_done_report(store)
    with store.writing() as session:
        old_queued = insert_queued(session, kind=SCRIPT, script_name="slow.py", script_source="x = 1\n",
                                   options={"duration_s": 1, "rate_hz": 100}).id
    age(store, old.id, 8)
    age(store, recent.id, 6)
    age(store, old_queued, 8)  # still waiting: never removed under a worker's feet
    with store.writing() as session:  # tombstones go with retention, as their reports would have
        session.add_all([DeletedReport(token_hash="old" * 21, deleted_at=time.time() - 8 * DAY_S),
                         DeletedReport(token_hash="new" * 21, deleted_at=time.time() - 6 * DAY_S)])
    queue = app.extensions["flamedeck.queue"]

    reap(store, queue.settings | {"RETENTION_DAYS": 0}, queue.enqueue)  # 0: keep forever
    assert row(store, old.token) is not None

    reap(store, queue.settings | {"RETENTION_DAYS": 7}, queue.enqueue)
    assert row(store, old.token) is None and artifact_count(store, old.id) == 0
    assert row(store, recent.token).status == DONE and artifact_count(store, recent.id) > 0
    assert load(store, old_queued).status == QUEUED
    with store.reading() as session:
        assert list(session.scalars(select(DeletedReport.token_hash))) == ["new" * 21]


@pytest.mark.slow
def test_the_periodic_task_of_a_running_worker_applies_retention(app, store, data_dir, backend):
    old = insert_done_report(store)
    age(store, old.id, 2)
    with consumer(data_dir, workers=1, RETENTION_DAYS=1, **backend):
        deadline = time.monotonic() + 10
        while row(store, old.token) is not None:
            assert time.monotonic() < deadline, "the reaper did not remove the expired report"
            time.sleep(0.1)
    assert artifact_count(store, old.id) == 0


SPIN_SCRIPT = "import time\nend = time.monotonic() + 20\nwhile time.monotonic() < end:\n    sum(range(1000))\n"


@pytest.mark.slow
def test_deleting_a_running_job_stops_it(data_dir, backend):
    app = create_app(app_config(data_dir, **backend))
    store = app.extensions["flamedeck.store"]
    client = app.test_client()
    with consumer(data_dir, workers=1, **backend):
        created = client.post("/api/v1/reports", data={"code": SPIN_SCRIPT, "duration": "30"}).get_json()
        report_id = row(store, created["id"]).id
        wait_for(store, report_id, (RUNNING,), timeout_s=20)
        deadline = time.monotonic() + 20
        job_dir = f"{jobs_dir(app.config)}/{report_id}-"
        while not processes_mentioning(job_dir):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        response = client.delete(created["api_url"], headers={"X-Delete-Token": created["delete_token"]})
        assert response.status_code == 204
        deadline = time.monotonic() + 10  # the next heartbeat finds its lease gone and stops the run
        while processes_mentioning(job_dir):
            assert time.monotonic() < deadline, "the deleted job is still running"
            time.sleep(0.1)
    assert row(store, created["id"]) is None
    app.extensions["flamedeck.store"].dispose()
