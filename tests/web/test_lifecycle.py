"""The report row is the source of truth: claims, leases, the reaper, cancellation."""

from __future__ import annotations

import time

import pytest

from sqlalchemy import update

from .conftest import make_app
from webapp.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, SCRIPT, Report
from webapp.store.artifacts import list_artifacts
from webapp.store.lifecycle import (
    WORKER_DIED_MESSAGE, claim, finish, insert_queued, new_lease_token, queue_position, reap_expired, release,
    renew_lease, request_cancel, touch_stale_queued,
)

@pytest.fixture
def app(data_dir, backend):
    """These rules must hold on SQLite and on PostgreSQL alike: the app in each mode in turn."""
    yield from make_app(data_dir, **backend)


OPTIONS = {"duration_s": 1, "rate_hz": 100}
OUTCOME = {"status": "finished", "exit_code": 0, "message": "The script finished normally."}


def queued(store, name="a.py") -> int:
    with store.writing() as session:
        return insert_queued(session, kind=SCRIPT, script_name=name, script_source="x = 1\n", options=OPTIONS).id


def status_of(store, report_id) -> Report:
    with store.reading() as session:
        return session.get(Report, report_id)


def expire_lease(store, report_id):
    with store.writing() as session:
        session.execute(update(Report).where(Report.id == report_id).values(lease_expires_at=time.time() - 1))


def test_only_one_claim_wins_so_a_duplicate_delivery_does_nothing(store):
    report_id = queued(store)
    with store.writing() as session:
        first = claim(session, report_id, lease_s=30)
    with store.writing() as session:
        second = claim(session, report_id, lease_s=30)
    assert first and second is None
    row = status_of(store, report_id)
    assert (row.status, row.attempts, row.lease_token) == (RUNNING, 1, first)


def test_a_repeated_claim_with_its_own_token_still_holds_the_job_and_spends_no_attempt(store):
    """A claim whose commit landed just before the connection dropped is repeated on a new one."""
    report_id = queued(store)
    token = new_lease_token()
    with store.writing() as session:
        first = claim(session, report_id, lease_s=30, lease_token=token)
    with store.writing() as session:
        again = claim(session, report_id, lease_s=30, lease_token=token)
    with store.writing() as session:
        other = claim(session, report_id, lease_s=30, lease_token=new_lease_token())
    assert (first, again, other) == (token, token, None)
    row = status_of(store, report_id)
    assert (row.status, row.attempts, row.lease_token) == (RUNNING, 1, token)


def test_results_are_stored_only_while_the_lease_is_held(store):
    report_id = queued(store)
    with store.writing() as session:
        lease = claim(session, report_id, lease_s=30)
    expire_lease(store, report_id)
    with store.writing() as session:
        assert reap_expired(session, max_attempts=3) == [report_id]
    with store.writing() as session:  # the old worker comes back too late
        assert not finish(session, report_id, lease, status=DONE, outcome=OUTCOME, summary={},
                          artifacts={"profile.collapsed.txt": b"a 1\n"})
        assert not renew_lease(session, report_id, lease, 30, 1.0).lease_held
    row = status_of(store, report_id)
    assert row.status == QUEUED and row.summary is None
    with store.reading() as session:
        assert list_artifacts(session, report_id) == []


def test_finish_stores_summary_and_artifacts(store):
    report_id = queued(store)
    with store.writing() as session:
        lease = claim(session, report_id, lease_s=30)
    with store.writing() as session:
        assert finish(session, report_id, lease, status=DONE, outcome=OUTCOME, summary={"total_samples": 5},
                      artifacts={"profile.collapsed.txt": b"a 5\n"})
    row = status_of(store, report_id)
    assert (row.status, row.summary, row.lease_token) == (DONE, {"total_samples": 5}, None)
    with store.reading() as session:
        assert [(a.name, a.size_bytes) for a in list_artifacts(session, report_id)] == [("profile.collapsed.txt", 4)]


def test_the_reaper_fails_a_job_whose_worker_died_max_attempts_times(store):
    report_id = queued(store)
    for attempt in (1, 2):
        with store.writing() as session:
            assert claim(session, report_id, lease_s=30)
        expire_lease(store, report_id)
        with store.writing() as session:
            requeued = reap_expired(session, max_attempts=2)
        assert requeued == ([report_id] if attempt == 1 else [])
    row = status_of(store, report_id)
    assert row.status == FAILED and row.lease_token is None
    assert row.outcome["message"] == WORKER_DIED_MESSAGE.format(attempts=2)
    assert "worker" in row.outcome["message"] and row.outcome["message"].endswith(".")


def test_a_live_lease_is_left_alone_and_renewal_reports_cancellation(store):
    report_id = queued(store)
    with store.writing() as session:
        lease = claim(session, report_id, lease_s=30)
    with store.writing() as session:
        assert reap_expired(session, max_attempts=3) == []
        assert request_cancel(session, report_id) == RUNNING
    with store.writing() as session:
        beat = renew_lease(session, report_id, lease, 30, 1.5)
    assert beat.lease_held and beat.cancel_requested
    assert status_of(store, report_id).progress_s == 1.5


def test_cancelling_a_queued_job_stops_it_before_any_worker_claims_it(store):
    report_id = queued(store)
    with store.writing() as session:
        assert request_cancel(session, report_id) == CANCELLED
    with store.writing() as session:
        assert claim(session, report_id, lease_s=30) is None
    assert status_of(store, report_id).status == CANCELLED


def test_a_stopping_worker_hands_its_job_back_without_spending_an_attempt(store):
    report_id = queued(store)
    with store.writing() as session:
        lease = claim(session, report_id, lease_s=30)
    with store.writing() as session:
        assert release(session, report_id, lease)
    row = status_of(store, report_id)
    assert (row.status, row.attempts, row.lease_token) == (QUEUED, 0, None)


def test_jobs_queued_too_long_are_re_enqueued_once_per_period(store):
    old, new = queued(store, "old.py"), queued(store, "new.py")
    with store.writing() as session:
        session.execute(update(Report).where(Report.id == old).values(enqueued_at=time.time() - 100))
    with store.writing() as session:
        assert touch_stale_queued(session, stale_s=50) == [old]
    with store.writing() as session:
        assert touch_stale_queued(session, stale_s=50) == []
    with store.reading() as session:
        assert queue_position(session, status_of(store, new)) == 2
