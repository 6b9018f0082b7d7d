"""The task and the reaper called directly (no consumer): duplicates are harmless, lost jobs come back."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import update

from .conftest import insert_done_report, make_app
from webapp.jobs.reaper import reap, sweep_job_dirs
from webapp.store import DONE, QUEUED, SCRIPT, Report
from webapp.store.lifecycle import claim, insert_queued


@pytest.fixture
def app(data_dir, backend):
    """These rules must hold on SQLite and on PostgreSQL alike: the app in each mode in turn."""
    yield from make_app(data_dir, **backend)


def queued(store) -> int:
    with store.writing() as session:
        return insert_queued(session, kind=SCRIPT, script_name="a.py", script_source="x = 1\n",
                             options={"duration_s": 1, "rate_hz": 100}).id


def test_a_duplicate_delivery_of_a_finished_job_changes_nothing(app, store):
    report = insert_done_report(store)
    app.extensions["flamedeck.queue"].runner.run(report.id)
    with store.reading() as session:
        row = session.get(Report, report.id)
    assert (row.status, row.attempts, row.finished_at) == (DONE, 0, report.finished_at)


def test_a_delivery_for_a_job_another_worker_holds_changes_nothing(app, store):
    report_id = queued(store)
    with store.writing() as session:
        lease = claim(session, report_id, lease_s=30)
    app.extensions["flamedeck.queue"].runner.run(report_id)
    with store.reading() as session:
        row = session.get(Report, report_id)
    assert (row.lease_token, row.attempts) == (lease, 1)


def test_the_reaper_puts_an_expired_job_back_on_the_queue(app, store):
    queue = app.extensions["flamedeck.queue"]
    report_id = queued(store)
    with store.writing() as session:
        claim(session, report_id, lease_s=30)
        session.execute(update(Report).where(Report.id == report_id).values(lease_expires_at=time.time() - 1))
    waiting_before = queue.huey.pending_count()
    assert reap(store, queue.settings, queue.enqueue) == [report_id]
    assert queue.huey.pending_count() == waiting_before + 1
    with store.reading() as session:
        assert session.get(Report, report_id).status == QUEUED


def test_the_sweep_removes_scratch_directories_of_dead_jobs_only(app, store, tmp_path):
    jobs_dir = tmp_path / "jobs"
    report_id = queued(store)
    with store.writing() as session:
        lease = claim(session, report_id, lease_s=30)
    live, dead, young = (jobs_dir / f"{report_id}-{lease[:8]}", jobs_dir / "999-deadbeef", jobs_dir / "998-cafecafe")
    for directory in (live, dead, young):
        directory.mkdir(parents=True)
    old = time.time() - 100
    for directory in (live, dead):
        os.utime(directory, (old, old))
    sweep_job_dirs(store, jobs_dir, min_age_s=30)
    assert sorted(path.name for path in jobs_dir.iterdir()) == sorted([live.name, young.name])


@pytest.mark.slow
def test_a_job_interrupted_by_its_worker_stopping_goes_back_to_the_queue_unspent(app, store):
    """Even when the interrupted run ends as an error (py-spy stopped before writing its file)."""
    queue = app.extensions["flamedeck.queue"]
    report_id = queued(store)
    with store.writing() as session:
        session.execute(update(Report).where(Report.id == report_id).values(
            script_source="import time\ntime.sleep(5)\n", options={"duration_s": 10, "rate_hz": 100}))
    waiting_before = queue.huey.pending_count()
    queue.shutting_down.set()  # the consumer is stopping as the job starts
    queue.runner.run(report_id)
    with store.reading() as session:
        row = session.get(Report, report_id)
    assert (row.status, row.attempts, row.lease_token, row.summary) == (QUEUED, 0, None, None), row.outcome
    assert queue.huey.pending_count() == waiting_before + 1
