"""The Huey queue: built from the app's settings, never at import time.

Only report ids travel through the queue; the report row says what to do.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from webapp.jobs.reaper import reap
from webapp.jobs.runner import JobRunner
from webapp.store import Store

SQLITE_QUEUE_FILE = "queue.db"

log = logging.getLogger(__name__)


def make_huey(settings: dict[str, Any]) -> Huey:
    """RedisHuey when REDIS_URL is set, else SqliteHuey in its own file in DATA_DIR."""
    if settings["REDIS_URL"]:
        # Redis storage blocks on the queue (BRPOP), so idle workers wake at once.
        return RedisHuey(settings["QUEUE_NAME"], url=settings["REDIS_URL"], results=False)
    filename = Path(settings["DATA_DIR"]) / SQLITE_QUEUE_FILE
    return SqliteHuey(settings["QUEUE_NAME"], filename=str(filename), results=False)


class JobQueue:
    """The Huey instance with flamedeck's two tasks: run a job, reap lost jobs."""

    def __init__(self, huey: Huey, store: Store, settings: dict[str, Any]):
        self.huey = huey
        self.settings = settings
        self.shutting_down = threading.Event()
        self.runner = JobRunner(store, settings, self.shutting_down, self.enqueue)
        self._run_task = huey.task(name="run_report")(self.runner.run)
        # Expires after one interval: while every worker is busy the scheduler keeps
        # enqueueing the reaper, and the backlog should drain as no-ops, not as repeats.
        self._reap_task = huey.periodic_task(_always, name="reap_reports", expires=settings["REAPER_INTERVAL_S"])(
            lambda: reap(store, settings, self.enqueue)
        )

    def enqueue(self, report_id: int) -> bool:
        """Put a report id on the queue. False if the queue is unreachable: the reaper retries later."""
        try:
            self._run_task(report_id)
        except Exception:  # the row stays queued; touch_stale_queued re-enqueues it
            log.exception("could not enqueue report %s", report_id)
            return False
        return True

    def create_consumer(self, workers: int) -> Consumer:
        """A thread-based consumer that polls fast and reaps every REAPER_INTERVAL_S."""
        poll_s = self.settings["QUEUE_POLL_INTERVAL_S"]
        consumer = _Consumer(
            self.huey, self.shutting_down, self.settings["REAPER_INTERVAL_S"], workers=workers, worker_type="thread", periodic=True,
            # A constant, short polling interval (no backoff): an idle worker
            # notices a new job within QUEUE_POLL_INTERVAL_S on the SQLite queue.
            initial_delay=poll_s, backoff=1.0, max_delay=poll_s,
            check_worker_health=True,
            # Running jobs get this long to stop py-spy and hand their job back (see stop below).
            shutdown_timeout=self.settings["SHUTDOWN_GRACE_S"],
        )
        return consumer


def _always(_timestamp) -> bool:
    # The scheduler itself decides how often periodic tasks are checked (below).
    return True


class _Consumer(Consumer):
    """Huey's consumer with a periodic-task interval in seconds and an early stop signal."""

    def __init__(self, huey: Huey, shutting_down: threading.Event, reaper_interval_s: float, **options):
        self.shutting_down = shutting_down
        self.reaper_interval_s = reaper_interval_s
        super().__init__(huey, **options)

    def _create_scheduler(self):
        scheduler = super()._create_scheduler()
        # Huey checks periodic tasks every 60 s by default; the reaper wants its own pace.
        scheduler.periodic_task_seconds = max(self.reaper_interval_s, 1)
        return scheduler

    def stop(self, graceful=False):
        # Running jobs see this through should_stop, stop py-spy, and hand their job back.
        # Always wait for that (up to shutdown_timeout), also on SIGTERM, which Huey treats
        # as "stop now": it is what systemd and Procfile runners send, and stopping without
        # waiting would leave the jobs "running" until their lease expires, spending an attempt.
        self.shutting_down.set()
        super().stop(graceful=True)
