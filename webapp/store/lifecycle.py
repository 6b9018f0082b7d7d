"""State changes of a report row. The row, not the queue, is the source of truth.

queued --claim--> running --finish--> done | failed | cancelled
   ^                 |
   +----reap---------+  (lease expired, attempts left; otherwise failed)

Every change is a conditional UPDATE, so two workers, a worker and the reaper,
or a duplicate delivery of the same job can never both win.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.store.artifacts import add_artifacts
from webapp.store.tables import CANCELLED, FAILED, QUEUED, RUNNING, Report

TOKEN_BYTES = 24  # 192 bits: report links cannot be guessed
LEASE_TOKEN_BYTES = 16
PHASE_CHARS = 255  # the column's size; a long list of packages is cut

WORKER_DIED_MESSAGE = (
    "The worker running this job stopped {attempts} times without finishing it "
    "(it was killed or crashed), so the job was given up. "
    "Try again, perhaps with a shorter duration or a lower sampling rate."
)
CANCELLED_MESSAGE = "The job was cancelled before it started."


def new_report_token() -> str:
    """An unguessable token for a report's permanent link."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def insert_queued(
    session: Session, *, kind: str, script_name: str, script_source: str | None, options: dict[str, Any],
    delete_token_hash: str | None = None, baseline_token: str | None = None, upload_bytes: int | None = None,
) -> Report:
    """Add a report in state "queued"; the caller commits before enqueueing its id.

    ``upload_bytes``: the size of the uploaded file an import job reads."""
    now = time.time()
    report = Report(
        token=new_report_token(), kind=kind, status=QUEUED, script_name=script_name,
        script_source=script_source, options=options, created_at=now, enqueued_at=now,
        progress_s=0.0, attempts=0, cancel_requested=False, delete_token_hash=delete_token_hash,
        baseline_token=baseline_token,
        upload_bytes=upload_bytes, progress_bytes=0 if upload_bytes is not None else None,
    )
    session.add(report)
    session.flush()
    return report


def count_queued(session: Session) -> int:
    """How many jobs are waiting for a worker."""
    return session.scalar(select(func.count()).select_from(Report).where(Report.status == QUEUED)) or 0


def queue_position(session: Session, report: Report) -> int:
    """1 for the next job to start; 0 when the report is not queued."""
    if report.status != QUEUED:
        return 0
    ahead = session.scalar(
        select(func.count()).select_from(Report).where(Report.status == QUEUED, Report.id < report.id)
    )
    return (ahead or 0) + 1


def new_lease_token() -> str:
    """The token of one attempt at a job; chosen before the claim so that a repeated claim can
    recognise its own."""
    return secrets.token_hex(LEASE_TOKEN_BYTES)


def claim(session: Session, report_id: int, lease_s: float, worker: str | None = None,
          lease_token: str | None = None) -> str | None:
    """Take a queued job: queued -> running with a fresh lease. None if someone else has it.

    ``worker`` ("host:pid") is recorded so that one can tell which machine ran the job.
    ``lease_token``: this attempt's token (a new one if None). Claiming again with the same token
    returns it when the row already carries it: a claim whose commit landed just before the
    database connection dropped, repeated on a new connection, still knows the job is its own.
    """
    repeatable = lease_token is not None
    lease_token = lease_token or new_lease_token()
    now = time.time()
    result = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == QUEUED, Report.cancel_requested.is_(False))
        .values(status=RUNNING, attempts=Report.attempts + 1, lease_token=lease_token,
                lease_expires_at=now + lease_s, started_at=now, progress_s=0.0, worker=worker)
    )
    if result.rowcount == 1:
        return lease_token
    if not repeatable:
        return None
    held = session.scalar(select(Report.lease_token).where(Report.id == report_id, Report.status == RUNNING))
    return lease_token if held == lease_token else None


@dataclass(frozen=True)
class Heartbeat:
    """What renewing a lease found out."""

    lease_held: bool
    cancel_requested: bool


def renew_lease(session: Session, report_id: int, lease_token: str, lease_s: float, progress_s: float,
                progress_bytes: int | None = None) -> Heartbeat:
    """Extend the lease and save progress (an import's also in bytes read), if the lease is still ours."""
    progress = {"progress_s": progress_s} | ({"progress_bytes": progress_bytes} if progress_bytes is not None else {})
    result = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == RUNNING, Report.lease_token == lease_token)
        .values(lease_expires_at=time.time() + lease_s, **progress)
    )
    if result.rowcount != 1:
        return Heartbeat(lease_held=False, cancel_requested=False)
    cancel = session.scalar(select(Report.cancel_requested).where(Report.id == report_id))
    return Heartbeat(lease_held=True, cancel_requested=bool(cancel))


def set_phase(session: Session, report_id: int, lease_token: str, phase: str | None) -> bool:
    """Say what a running job does before its script starts (None: it runs the script now)."""
    result = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == RUNNING, Report.lease_token == lease_token)
        .values(phase=phase[:PHASE_CHARS] if phase else None)
    )
    return result.rowcount == 1


def finish(
    session: Session, report_id: int, lease_token: str, *, status: str, outcome: dict[str, Any],
    summary: dict[str, Any] | None, artifacts: dict[str, bytes], progress_bytes: int | None = None,
) -> bool:
    """Store the results, only if the lease is still held. False means they were discarded.

    ``progress_bytes``: an import's last count of bytes read (a quick one ends between heartbeats)."""
    progress = {"progress_bytes": progress_bytes} if progress_bytes is not None else {}
    result = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == RUNNING, Report.lease_token == lease_token)
        .values(status=status, outcome=outcome, summary=summary, finished_at=time.time(),
                lease_token=None, lease_expires_at=None, phase=None, **progress)
    )
    if result.rowcount != 1:
        return False
    add_artifacts(session, report_id, artifacts)
    return True


def request_cancel(session: Session, report_id: int) -> str | None:
    """Cancel a queued job now, or ask a running one to stop. Returns the new status, or None."""
    now = time.time()
    result = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == QUEUED)
        .values(status=CANCELLED, finished_at=now, cancel_requested=True,
                outcome={"status": "cancelled", "exit_code": None, "message": CANCELLED_MESSAGE})
    )
    if result.rowcount == 1:
        return CANCELLED
    result = session.execute(
        update(Report).where(Report.id == report_id, Report.status == RUNNING).values(cancel_requested=True)
    )
    return RUNNING if result.rowcount == 1 else None


def reap_expired(session: Session, max_attempts: int) -> list[int]:
    """Take back running jobs whose lease ran out: re-queue them, or fail them after max_attempts.

    Returns the ids to put on the queue again.
    """
    now = time.time()
    expired = session.execute(
        select(Report.id, Report.lease_token, Report.attempts, Report.cancel_requested)
        .where(Report.status == RUNNING, Report.lease_expires_at < now)
    ).all()
    requeue = []
    for report_id, lease_token, attempts, cancel_requested in expired:
        if cancel_requested:
            values = {"status": CANCELLED, "finished_at": now,
                      "outcome": {"status": "cancelled", "exit_code": None, "message": CANCELLED_MESSAGE}}
        elif attempts >= max_attempts:
            values = {"status": FAILED, "finished_at": now,
                      "outcome": {"status": "error", "exit_code": None,
                                  "message": WORKER_DIED_MESSAGE.format(attempts=attempts)}}
        else:
            values = {"status": QUEUED, "enqueued_at": now}
        result = session.execute(
            update(Report)
            .where(Report.id == report_id, Report.status == RUNNING, Report.lease_token == lease_token)
            .values(lease_token=None, lease_expires_at=None, **values)
        )
        if result.rowcount == 1 and values["status"] == QUEUED:
            requeue.append(report_id)
    return requeue


def touch_stale_queued(session: Session, stale_s: float) -> list[int]:
    """Queued jobs waiting longer than stale_s (their message may be lost): mark them re-enqueued."""
    now = time.time()
    stale = list(session.scalars(
        select(Report.id).where(Report.status == QUEUED, Report.enqueued_at < now - stale_s)
    ))
    if stale:
        session.execute(update(Report).where(Report.id.in_(stale), Report.status == QUEUED).values(enqueued_at=now))
    return stale


def release(session: Session, report_id: int, lease_token: str) -> bool:
    """Give a running job back to the queue without spending an attempt (its worker is stopping)."""
    result = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == RUNNING, Report.lease_token == lease_token)
        .values(status=QUEUED, attempts=Report.attempts - 1, lease_token=None, lease_expires_at=None,
                enqueued_at=time.time(), progress_s=0.0)
    )
    return result.rowcount == 1


def insert_finished(
    session: Session, *, kind: str, status: str, script_name: str, options: dict[str, Any] | None,
    outcome: dict[str, Any], summary: dict[str, Any], artifacts: dict[str, bytes],
    delete_token_hash: str | None = None, baseline_token: str | None = None,
) -> Report:
    """Add a report that needed no worker (an imported profile), with its artifacts."""
    now = time.time()
    report = Report(
        token=new_report_token(), kind=kind, status=status, script_name=script_name, script_source=None,
        options=options, created_at=now, started_at=now, finished_at=now, progress_s=0.0, attempts=0,
        cancel_requested=False, outcome=outcome, summary=summary, delete_token_hash=delete_token_hash,
        baseline_token=baseline_token,
    )
    session.add(report)
    session.flush()
    add_artifacts(session, report.id, artifacts)
    return report
