"""The tables: reports (one row per job or import), their artifacts, and deleted reports' tombstones.

Times are UTC epoch seconds (floats): they compare the same way in SQLite and
PostgreSQL and need no time-zone handling.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Report.status values. "queued" and "running" are pending; the others are final.
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
PENDING_STATUSES = (QUEUED, RUNNING)
FINAL_STATUSES = (DONE, FAILED, CANCELLED)

# Report.kind values.
SCRIPT, IMPORT = "script", "import"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class Report(Base):
    """A profiling job (kind "script") or an imported profile (kind "import")."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    script_name: Mapped[str] = mapped_column(String(255))
    script_source: Mapped[str | None] = mapped_column(Text, nullable=True)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    created_at: Mapped[float] = mapped_column(Float, index=True)  # indexed for retention
    enqueued_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    progress_s: Mapped[float] = mapped_column(Float, default=0.0)  # script time elapsed so far
    # What a running job does before its script starts ("installing numpy 2.3 …"); None once it runs.
    phase: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # An import run by a worker: the uploaded file's size, and how much of it the worker has read.
    upload_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    progress_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # "host:pid" of the worker process that claimed the job last: which machine ran it.
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # SHA-256 (hex) of the delete token shown once to the uploader; the token itself is never kept.
    delete_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The token of the earlier report this one is compared with ("Run again", or the API's
    # baseline=<id>); not a foreign key: deleting the baseline must not touch this report.
    baseline_token: Mapped[str | None] = mapped_column(String(64), nullable=True)

    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # {status, exit_code, message}
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # report.json

    artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="report", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES


class Artifact(Base):
    """One downloadable file of a report, stored gzip-compressed."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("report_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)  # uncompressed
    sha256: Mapped[str] = mapped_column(String(64))  # of the uncompressed bytes: the ETag
    gzip_data: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="artifacts")


class DeletedReport(Base):
    """A tombstone: a report's link was deleted by its owner, so it answers "deleted", not "unknown".

    Only a hash of the report token is kept, so the table lists no working or former links.
    """

    __tablename__ = "deleted_reports"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 (hex) of the report token
    deleted_at: Mapped[float] = mapped_column(Float, index=True)  # indexed: retention prunes by it
