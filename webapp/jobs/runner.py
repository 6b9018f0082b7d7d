"""Running one job: claim the row, keep the lease alive, run the pipeline, store the results."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from webapp.jobs.reaper import job_dir_name, jobs_dir
from webapp.config import profiling_limits
from webapp.jobs.uploads import remove_upload, upload_path
from webapp.store import CANCELLED, DONE, FAILED, IMPORT, Report, Store
from webapp.store.artifacts import Compressed, compress, compress_written, load_artifact, plain_bytes
from webapp.store.database import LOST_CONNECTION_ERRORS
from webapp.store.lifecycle import claim, finish, new_lease_token, renew_lease, release, set_phase

UNEXPECTED_ERROR_MESSAGE = (
    "The profiler failed unexpectedly ({error}). This is a bug in flamedeck; "
    "try again, and report it if it happens again."
)

UNEXPECTED_IMPORT_MESSAGE = (
    "The import failed unexpectedly ({error}). This is a bug in flamedeck; "
    "try again, and report it if it happens again."
)
UPLOAD_MISSING_MESSAGE = (
    "The uploaded file is not in this worker's upload directory, so it could not be imported. "
    "With workers on other machines, the operator must set FLAMEDECK_UPLOAD_DIR to one shared directory; "
    "upload the profile again once that is done."
)
IMPORT_CANCELLED_MESSAGE = "The import was cancelled."
PROJECT_DIR = "project"  # a project's files in its job directory; the script's working directory
CANCELLED_EARLY_MESSAGE = "The run was cancelled before any samples were recorded."

log = logging.getLogger(__name__)


class JobRunner:
    """Runs the job of one report id; safe to call twice for the same id."""

    def __init__(self, store: Store, settings: dict[str, Any], shutting_down: threading.Event,
                 enqueue: Callable[[int], bool]):
        self.store = store
        self.settings = settings
        self.shutting_down = shutting_down
        self.enqueue = enqueue

    def run(self, report_id: int) -> None:
        """The Huey task: does nothing unless it wins the claim on a queued report.

        Every step that touches the database is retried on a fresh connection while the
        connection keeps being lost (``Store.run_write``/``run_read``). A database that stays
        away longer than DATABASE_RETRY_WINDOW_S raises out of here: the job is not failed, its
        lease runs out and the reaper puts it back on the queue."""
        lease_s = self.settings["JOB_LEASE_S"]
        attempt_token = new_lease_token()  # the same in a repeated claim (see run_write)

        def claim_and_load(session):
            lease = claim(session, report_id, lease_s, worker=worker_identity(), lease_token=attempt_token)
            return lease, (session.get(Report, report_id) if lease else None)

        lease_token, report = self.store.run_write(claim_and_load)
        if lease_token is None:
            return  # a duplicate delivery, a cancelled or deleted job, or another worker has it
        heartbeat = _HeartbeatThread(self.store, report_id, lease_token, lease_s,
                                     self.settings["HEARTBEAT_INTERVAL_S"])
        job_dir = jobs_dir(self.settings) / job_dir_name(report_id, lease_token)
        should_stop = _StopCheck(heartbeat, self.shutting_down)
        heartbeat.start()
        try:
            if report.kind == IMPORT:
                status, outcome, summary, artifacts = self._import(report, heartbeat, should_stop)
            else:
                status, outcome, summary, artifacts = self._profile(report, job_dir, heartbeat, should_stop)
        finally:
            heartbeat.stop()
            shutil.rmtree(job_dir, ignore_errors=True)
        if should_stop.stopped_for_shutdown and not heartbeat.cancel_requested:
            # Interrupted because this worker is shutting down, not because a user asked:
            # whatever the interrupted run produced is not the job's result.
            self._hand_back(report_id, lease_token)
            return
        # Compressed before the write: a big import's files would otherwise hold the database's
        # write lock (SQLite has one for everybody) for as long as compressing them takes.
        # (The profile downloads already are: the pipeline wrote them into compress_written.)
        artifacts = {name: data if isinstance(data, Compressed) else compress(data) for name, data in artifacts.items()}
        stored = self.store.run_write(lambda session: finish(
            session, report_id, lease_token, status=status, outcome=outcome, summary=summary,
            artifacts=artifacts, progress_bytes=heartbeat.progress_bytes))
        if not stored:
            log.warning("report %s: lease lost before the results were stored; discarded", report_id)
        elif report.kind == IMPORT:
            remove_upload(self.settings, report_id)  # imported (or refused): the upload is not needed again

    def _import(self, report: Report, heartbeat: _HeartbeatThread, should_stop: _StopCheck):
        """Import an uploaded profile (see ``webapp.jobs.uploads``), with bytes read and the step
        it is at in the status box; the report is then exactly like one imported by the web request."""
        from webapp import pipeline
        from webapp.profiles import ProfileFormatError

        def say(text: str) -> None:
            self.store.run_write(lambda session: set_phase(session, report.id, heartbeat.lease_token, text))

        path = upload_path(self.settings, report.id)
        heartbeat.set_progress_bytes(0)
        try:
            result = pipeline.import_profile_file(path, report.script_name, on_bytes=heartbeat.set_progress_bytes,
                                                  on_step=say, should_stop=should_stop,
                                                  max_decompressed_bytes=self.settings["MAX_DECOMPRESSED_BYTES"],
                                                  artifact_sink=compress_written,
                                                  export_threads=self.settings["EXPORT_THREADS"])
        except FileNotFoundError:
            return FAILED, {"status": "error", "exit_code": None, "message": UPLOAD_MISSING_MESSAGE}, None, {}
        except ProfileFormatError as error:
            return FAILED, {"status": "error", "exit_code": None, "message": str(error)}, None, {}
        except LOST_CONNECTION_ERRORS:
            raise  # the database stayed away longer than DATABASE_RETRY_WINDOW_S: see run()
        except Exception as error:
            log.exception("report %s: import failed", report.id)
            outcome = {"status": "error", "exit_code": None,
                       "message": UNEXPECTED_IMPORT_MESSAGE.format(error=type(error).__name__)}
            return FAILED, outcome, None, {}
        if result is None:  # stopped while reading: a user's cancel, or this worker shutting down
            return CANCELLED, {"status": "cancelled", "exit_code": None, "message": IMPORT_CANCELLED_MESSAGE}, None, {}
        say("Storing the report")  # compressing and writing the downloads; finish() clears the phase
        return DONE, result.summary["outcome"], result.summary, result.artifacts

    def _profile(self, report: Report, job_dir: Path, heartbeat: _HeartbeatThread, should_stop: _StopCheck):
        from webapp import pipeline
        from webapp.jobs.sandboxing import job_sandbox
        from webapp.profiling import OptionsError, RunOptions
        from webapp.environments import InlineMetadataError
        from webapp.environments.dependencies import DependencyProblem
        from webapp.profiling.sandbox import SandboxUnavailable

        try:
            job_dir.mkdir(parents=True, exist_ok=True)
            project = self._project(report)
            if project is not None:
                project_root = (job_dir / PROJECT_DIR).absolute()
                script = project.write_to(project_root)
            else:
                project_root = None
                script = job_dir / report.script_name
                script.write_text(report.script_source or "", encoding="utf-8")
            launcher, _warning = job_sandbox(self.settings)
            python, dependencies = self._interpreter(report, launcher.python, heartbeat.lease_token)
            result = pipeline.profile_script(
                script, RunOptions(**report.options), job_dir, display_name=report.script_name,
                limits=profiling_limits(self.settings), launcher=launcher, python=python,
                on_progress=heartbeat.set_progress, should_stop=should_stop, project_root=project_root,
                artifact_sink=compress_written, export_threads=self.settings["EXPORT_THREADS"],
            )
            if dependencies is not None:
                result.summary["dependencies"] = dependencies
        except (OptionsError, SandboxUnavailable, InlineMetadataError, DependencyProblem) as error:
            # Limits lowered after this job was queued, a sandbox that stopped working, or
            # dependencies that cannot be had: the script never ran.
            return FAILED, {"status": "error", "exit_code": None, "message": str(error)}, None, {}
        except LOST_CONNECTION_ERRORS:
            raise  # the database stayed away longer than DATABASE_RETRY_WINDOW_S: see run()
        except Exception as error:
            log.exception("report %s: pipeline failed", report.id)
            outcome = {"status": "error", "exit_code": None,
                       "message": UNEXPECTED_ERROR_MESSAGE.format(error=type(error).__name__)}
            return FAILED, outcome, None, {}
        outcome = result.summary.get("outcome") or {}
        if outcome.get("status") == "cancelled":
            status = CANCELLED
        elif heartbeat.cancel_requested and not result.produced_profile:
            # Stopped so early that py-spy wrote nothing usable: that is the cancel, not an error.
            status, outcome = CANCELLED, {"status": "cancelled", "exit_code": None,
                                          "message": CANCELLED_EARLY_MESSAGE}
            result.summary["outcome"] = outcome
        else:
            status = DONE if result.produced_profile else FAILED
        return status, outcome, result.summary, result.artifacts

    def _interpreter(self, report: Report, sandbox_python: str, lease_token: str) -> tuple[str, dict | None]:
        """The script's interpreter and its dependency note (see ``job_interpreter``); while an
        install runs, the report's status box says what is being installed."""
        from webapp.jobs.environments import job_interpreter

        said = []

        def say(text: str) -> None:
            said.append(text)
            self.store.run_write(lambda session: set_phase(session, report.id, lease_token, text))

        try:
            python, note = job_interpreter(self.settings, report.script_source or "", sandbox_python, say)
            if note is not None:
                note["installed"] = bool(said)  # False: the environment was there already (cached, or the default)
            return python, note
        finally:
            if said:
                self.store.run_write(lambda session: set_phase(session, report.id, lease_token, None))

    def _project(self, report: Report):
        """The project stored with the report (several files), or None for a single script."""
        from webapp.projects import PROJECT_ARTIFACT
        from webapp.projects.project import from_stored_zip

        def load(session):
            stored = load_artifact(session, report.id, PROJECT_ARTIFACT)
            return plain_bytes(stored) if stored is not None else None

        data = self.store.run_read(load)
        return from_stored_zip(data, report.script_name) if data is not None else None

    def _hand_back(self, report_id: int, lease_token: str) -> None:
        # The worker is stopping: the job was not at fault, so it goes back to the
        # queue without using up an attempt and runs again when a worker starts.
        released = self.store.run_write(lambda session: release(session, report_id, lease_token))
        if released:
            self.enqueue(report_id)
            log.info("report %s handed back to the queue (worker stopping)", report_id)


def worker_identity() -> str:
    """"host:pid" of this worker process, recorded on the reports it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _StopCheck:
    """The pipeline's should_stop: a user's cancel, a lost lease, or this worker shutting down."""

    def __init__(self, heartbeat: _HeartbeatThread, shutting_down: threading.Event):
        self.heartbeat = heartbeat
        self.shutting_down = shutting_down
        self.stopped_for_shutdown = False

    def __call__(self) -> bool:
        if self.heartbeat.cancel_requested or self.heartbeat.lease_lost:
            return True
        if self.shutting_down.is_set():
            self.stopped_for_shutdown = True
            return True
        return False


class _HeartbeatThread(threading.Thread):
    """Renews the lease every interval, saves progress, and notices cancel requests."""

    def __init__(self, store: Store, report_id: int, lease_token: str, lease_s: float, interval_s: float):
        super().__init__(name=f"heartbeat-{report_id}", daemon=True)
        self.store = store
        self.report_id = report_id
        self.lease_token = lease_token
        self.lease_s = lease_s
        self.interval_s = interval_s
        self.progress_s = 0.0
        self.progress_bytes: int | None = None  # an import's bytes read so far
        self.cancel_requested = False
        self.lease_lost = False
        self._stopped = threading.Event()

    def set_progress(self, elapsed_s: float) -> None:
        """The pipeline's on_progress callback: remember, the next beat saves it."""
        self.progress_s = elapsed_s

    def set_progress_bytes(self, bytes_read: int) -> None:
        """An import's on_bytes callback: remember, the next beat saves it."""
        self.progress_bytes = bytes_read

    def run(self) -> None:
        started = time.monotonic()
        while not self._stopped.wait(self.interval_s):
            if self.progress_bytes is not None:
                self.progress_s = time.monotonic() - started  # an import has no script clock: time since start
            try:
                beat = self.store.run_write(lambda session: renew_lease(
                    session, self.report_id, self.lease_token, self.lease_s, self.progress_s,
                    self.progress_bytes))
            except Exception:  # a busy or unreachable database: try again at the next beat
                log.exception("report %s: heartbeat failed", self.report_id)
                continue
            self.cancel_requested = beat.cancel_requested
            if not beat.lease_held:
                self.lease_lost = True
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join()
