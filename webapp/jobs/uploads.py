"""Uploaded profiles waiting for the worker that imports them: one file per report in UPLOAD_DIR.

The web process streams a big upload into a spool file inside UPLOAD_DIR (see
``webapp.views.spooling``), then links it under the report's id: the bytes are written once
and never held whole in a web process's memory. The worker reads the file and removes it
once the import has ended; the reaper removes any whose report ended or was deleted.

A directory, not the database: a 1 GiB file would grow the SQLite file for good and hold its
only writer lock while being written, and bloat a PostgreSQL server's WAL and backups. With
workers on other machines, UPLOAD_DIR must be one shared directory (see its setting).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from webapp.store import PENDING_STATUSES, Report, Store

UPLOADS_NAME = "uploads"  # in DATA_DIR, when UPLOAD_DIR is empty
UPLOAD_SUFFIX = ".upload"
SPOOL_PREFIX = ".spool-"
COPY_CHUNK_BYTES = 1024 * 1024
STALE_SPOOL_S = 24 * 3600  # a spool file this old belongs to a web process that was killed mid-upload


def upload_dir(settings: dict[str, Any]) -> Path:
    """UPLOAD_DIR, created readable by this user only (the sandbox user never needs it)."""
    directory = Path(settings["UPLOAD_DIR"] or Path(settings["DATA_DIR"]) / UPLOADS_NAME)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def upload_path(settings: dict[str, Any], report_id: int) -> Path:
    """The file an import job reads."""
    return upload_dir(settings) / f"{report_id}{UPLOAD_SUFFIX}"


def spool_file(settings: dict[str, Any]) -> IO[bytes]:
    """A temporary file in UPLOAD_DIR for a request's upload, removed when the request closes it
    (unless ``keep_upload`` linked it under a report first)."""
    return tempfile.NamedTemporaryFile(dir=upload_dir(settings), prefix=SPOOL_PREFIX)


def keep_upload(stream: IO[bytes], destination: Path) -> None:
    """Make ``stream`` (an uploaded file) the file at ``destination``: a hard link when it was
    spooled into UPLOAD_DIR, else a copy in chunks (a small upload kept in memory)."""
    spooled = getattr(stream, "name", None)
    if isinstance(spooled, str) and Path(spooled).parent == destination.parent:
        stream.flush()
        os.link(spooled, destination)
        return
    stream.seek(0)
    with destination.open("xb") as target:
        shutil.copyfileobj(stream, target, COPY_CHUNK_BYTES)


def remove_upload(settings: dict[str, Any], report_id: int) -> None:
    upload_path(settings, report_id).unlink(missing_ok=True)


def sweep_uploads(store: Store, settings: dict[str, Any]) -> None:
    """Remove uploads whose report no longer waits for them, and spool files of killed requests."""
    directory = upload_dir(settings)
    waiting = {}
    for path in directory.iterdir():
        stem = path.name.removesuffix(UPLOAD_SUFFIX)
        if path.name.endswith(UPLOAD_SUFFIX) and stem.isdigit():
            waiting[int(stem)] = path
        elif path.name.startswith(SPOOL_PREFIX) and path.stat().st_mtime < time.time() - STALE_SPOOL_S:
            path.unlink(missing_ok=True)
    if not waiting:
        return
    pending = set(store.run_read(lambda session: session.scalars(
        select(Report.id).where(Report.id.in_(waiting), Report.status.in_(PENDING_STATUSES))).all()))
    for report_id, path in waiting.items():
        if report_id not in pending:
            path.unlink(missing_ok=True)
