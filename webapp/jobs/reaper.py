"""The reaper: no report stays "running" after its worker died, none stays "queued" forever,
and none outlives RETENTION_DAYS."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from webapp.jobs.uploads import sweep_uploads
from webapp.store import RUNNING, Report, Store
from webapp.store.deletion import delete_expired, retention_cutoff
from webapp.store.lifecycle import reap_expired, touch_stale_queued

JOBS_ROOT_NAME = "flamedeck-jobs"

log = logging.getLogger(__name__)


def jobs_dir(settings: dict[str, Any]) -> Path:
    """Where this installation's job scratch directories go.

    Not under DATA_DIR by default: the sandbox user must be able to reach its job
    directory, and DATA_DIR often sits under a private home directory (``/root``).
    The system temp dir is reachable by everyone; one subdirectory per DATA_DIR keeps
    two installations on one machine from sweeping each other's jobs."""
    if settings["JOBS_DIR"]:
        root = Path(settings["JOBS_DIR"])
    else:
        installation = hashlib.sha256(str(Path(settings["DATA_DIR"]).resolve()).encode()).hexdigest()[:12]
        root = Path(tempfile.gettempdir()) / JOBS_ROOT_NAME / installation
    root.mkdir(parents=True, exist_ok=True)
    for directory in (root.parent, root) if not settings["JOBS_DIR"] else (root,):
        directory.chmod(0o711)  # search-only for the sandbox user; it cannot list other jobs
    return root


def job_dir_name(report_id: int, lease_token: str) -> str:
    """The scratch directory of one attempt at a job (unique per lease)."""
    return f"{report_id}-{lease_token[:8]}"


def reap(store: Store, settings: dict[str, Any], enqueue: Callable[[int], bool]) -> list[int]:
    """Re-queue or fail jobs with an expired lease; re-enqueue jobs queued too long; apply retention."""

    def take_back(session):
        return reap_expired(session, settings["MAX_ATTEMPTS"]), touch_stale_queued(session, settings["QUEUED_STALE_S"])

    expired, stale = store.run_write(take_back)
    for report_id in expired + stale:
        enqueue(report_id)
    if expired or stale:
        log.info("reaper re-queued %s (lease expired) and %s (queued too long)", expired, stale)
    remove_expired_reports(store, settings["RETENTION_DAYS"])
    sweep_job_dirs(store, jobs_dir(settings), settings["JOB_LEASE_S"])
    sweep_uploads(store, settings)
    return expired + stale


def remove_expired_reports(store: Store, retention_days: float, now: float | None = None) -> int:
    """Delete finished reports older than ``retention_days`` (0: none), with their artifacts."""
    cutoff = retention_cutoff(time.time() if now is None else now, retention_days)
    if cutoff is None:
        return 0
    removed = store.run_write(lambda session: delete_expired(session, cutoff))
    if removed:
        log.info("retention: deleted %s reports older than %s days", removed, retention_days)
    return removed


def sweep_job_dirs(store: Store, jobs_dir: Path, min_age_s: float) -> None:
    """Delete scratch directories left behind by killed workers on this machine."""
    if not jobs_dir.is_dir():
        return
    rows = store.run_read(lambda session: session.execute(
        select(Report.id, Report.lease_token).where(Report.status == RUNNING)).all())
    live = {job_dir_name(report_id, lease) for report_id, lease in rows if lease}
    # A directory younger than a lease may belong to a job claimed after the query above.
    cutoff = time.time() - min_age_s
    for job_dir in jobs_dir.iterdir():
        if job_dir.name not in live and job_dir.stat().st_mtime < cutoff:
            shutil.rmtree(job_dir, ignore_errors=True)
