"""An import bigger than MAX_INLINE_IMPORT_BYTES: sniffed and refused at once, or queued with its file
kept in UPLOAD_DIR, then imported by the job runner with progress, and its file removed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from .conftest import make_app, report_count, row
from webapp.jobs.reaper import reap
from webapp.jobs.uploads import upload_dir, upload_path
from webapp.store import IMPORT, QUEUED

PROFILE = Path(__file__).resolve().parents[1] / "fixtures" / "pyspy-threads.speedscope.json"


@pytest.fixture
def app(data_dir):
    # Every import is queued; the upload spools to disk from the first byte (a small test file).
    yield from make_app(data_dir, MAX_INLINE_IMPORT_BYTES=0)


def test_a_file_that_is_no_profile_is_refused_before_anything_is_stored(client, store, app):
    refused = client.post("/api/v1/reports", data={"profile": (io.BytesIO(b"x" * 2_000_000), "big.json")})
    assert refused.status_code == 400
    assert "not in a profile format flamedeck can read" in refused.get_json()["error"]
    assert report_count(store) == 0
    assert not [path.name for path in upload_dir(app.config).iterdir()]  # nor any spooled file left


def test_a_queued_import_is_run_by_the_worker_with_progress_and_ends_like_an_inline_one(client, store, app):
    data = PROFILE.read_bytes()
    created = client.post("/api/v1/reports", data={"profile": (io.BytesIO(data), PROFILE.name)})
    assert created.status_code == 202 and created.get_json()["status"] == QUEUED
    report = row(store, created.get_json()["id"])
    assert (report.kind, report.upload_bytes) == (IMPORT, len(data))
    assert upload_path(app.config, report.id).read_bytes() == data
    queued = client.get(created.get_json()["api_url"]).get_json()
    assert queued["progress"]["bytes_total"] == len(data) and queued["progress"]["bytes_read"] == 0

    app.extensions["flamedeck.queue"].runner.run(report.id)  # what the worker does with the id

    done = client.get(created.get_json()["api_url"]).get_json()
    assert done["status"] == "done", done["outcome"]
    assert done["progress"]["bytes_read"] == len(data) and done["phase"] is None
    assert done["summary"]["total_samples"] > 0
    speedscope = client.get(f"/r/{done['id']}/profile.speedscope.json")
    assert speedscope.status_code == 200 and b"speedscope" in speedscope.data
    assert not upload_path(app.config, report.id).exists()


def test_the_reaper_removes_the_upload_of_a_report_cancelled_while_queued(client, store, app):
    created = client.post("/api/v1/reports", data={"profile": (PROFILE.open("rb"), PROFILE.name)}).get_json()
    report = row(store, created["id"])
    cancelled = client.post(f"{created['api_url']}/cancel", headers={"X-Delete-Token": created["delete_token"]})
    assert cancelled.get_json()["status"] == "cancelled"
    assert upload_path(app.config, report.id).exists()
    reap(store, {key: app.config[key] for key in app.config if key.isupper()}, lambda _id: True)
    assert not upload_path(app.config, report.id).exists()


def test_a_damaged_file_that_passed_the_sniff_ends_as_a_failed_report_with_the_importers_sentence(client, store, app):
    truncated = PROFILE.read_bytes()[:-200]
    created = client.post("/api/v1/reports", data={"profile": (io.BytesIO(truncated), PROFILE.name)}).get_json()
    report = row(store, created["id"])
    app.extensions["flamedeck.queue"].runner.run(report.id)
    ended = client.get(created["api_url"]).get_json()
    assert ended["status"] == "failed" and ended["phase"] is None
    assert "speedscope" in ended["outcome"]["message"].lower() and "bug" not in ended["outcome"]["message"]
    assert ended["profile_files"]["available"] is False
    assert not upload_path(app.config, report.id).exists()
