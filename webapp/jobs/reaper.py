"""The reaper: no report stays "running" after its worker died, none stays "queued" forever."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from webapp.store import RUNNING, Report, Store
from webapp.store.lifecycle import reap_expired, touch_stale_queued

JOBS_SUBDIR = "jobs"

log = logging.getLogger(__name__)


def job_dir_name(report_id: int, lease_token: str) -> str:
    """The scratch directory of one attempt at a job (unique per lease)."""
    return f"{report_id}-{lease_token[:8]}"


def reap(store: Store, settings: dict[str, Any], enqueue: Callable[[int], bool]) -> list[int]:
    """Re-queue or fail jobs with an expired lease; re-enqueue jobs queued too long."""
    with store.writing() as session:
        expired = reap_expired(session, settings["MAX_ATTEMPTS"])
        stale = touch_stale_queued(session, settings["QUEUED_STALE_S"])
    for report_id in expired + stale:
        enqueue(report_id)
    if expired or stale:
        log.info("reaper re-queued %s (lease expired) and %s (queued too long)", expired, stale)
    sweep_job_dirs(store, Path(settings["DATA_DIR"]) / JOBS_SUBDIR, settings["JOB_LEASE_S"])
    return expired + stale


def sweep_job_dirs(store: Store, jobs_dir: Path, min_age_s: float) -> None:
    """Delete scratch directories left behind by killed workers on this machine."""
    if not jobs_dir.is_dir():
        return
    with store.reading() as session:
        rows = session.execute(select(Report.id, Report.lease_token).where(Report.status == RUNNING))
        live = {job_dir_name(report_id, lease) for report_id, lease in rows if lease}
    # A directory younger than a lease may belong to a job claimed after the query above.
    cutoff = time.time() - min_age_s
    for job_dir in jobs_dir.iterdir():
        if job_dir.name not in live and job_dir.stat().st_mtime < cutoff:
            shutil.rmtree(job_dir, ignore_errors=True)
