"""Removing reports: by the uploader (who holds the delete token) and by age (retention).

Only a hash of a delete token is stored. Tokens are random with 192 bits, so a
plain SHA-256 is enough: there is nothing to guess, only a leaked database to
protect against.

A report its owner deletes leaves a tombstone: a hash of its token and the time,
so that its link answers "this report was deleted" rather than "unknown". Tombstones
go with retention, as the report would have.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from webapp.store.tables import FINAL_STATUSES, Artifact, DeletedReport, Report

DELETE_TOKEN_BYTES = 24
# Reports removed per retention pass: keeps each transaction short when a long
# backlog expires at once (the next pass takes the next batch).
RETENTION_BATCH_REPORTS = 500
SECONDS_PER_DAY = 86_400


def new_delete_token() -> tuple[str, str]:
    """A fresh delete token for the uploader, and the hash to store in its place."""
    token = secrets.token_urlsafe(DELETE_TOKEN_BYTES)
    return token, hash_delete_token(token)


def hash_delete_token(token: str) -> str:
    """What is stored for a delete token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def delete_token_matches(report: Report, token: str | None) -> bool:
    """True when ``token`` is the report's delete token (compared in constant time)."""
    if not token or not report.delete_token_hash:
        return False
    return hmac.compare_digest(hash_delete_token(token), report.delete_token_hash)


def delete_reports(session: Session, report_ids: list[int]) -> int:
    """Remove these reports and their artifacts; how many reports were removed."""
    if not report_ids:
        return 0
    # Artifacts first, explicitly: the schema cascades too, but SQLite only with foreign keys on.
    session.execute(delete(Artifact).where(Artifact.report_id.in_(report_ids)))
    result = session.execute(delete(Report).where(Report.id.in_(report_ids)))
    return result.rowcount


def hash_report_token(token: str) -> str:
    """What a tombstone keeps of a deleted report's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def delete_by_owner(session: Session, report: Report, now: float) -> int:
    """Remove the report and its artifacts, and leave its tombstone; how many reports were removed."""
    removed = delete_reports(session, [report.id])
    if removed and session.get(DeletedReport, hash_report_token(report.token)) is None:
        session.add(DeletedReport(token_hash=hash_report_token(report.token), deleted_at=now))
    return removed


def was_deleted(session: Session, token: str) -> bool:
    """Whether a report with this token was deleted by its owner (and its tombstone is still kept)."""
    return session.get(DeletedReport, hash_report_token(token)) is not None


def delete_expired(session: Session, older_than: float) -> int:
    """Remove finished reports created before ``older_than`` (epoch s), one batch; how many.

    Tombstones older than that go too: the report would have expired by now anyway.
    """
    session.execute(delete(DeletedReport).where(DeletedReport.deleted_at < older_than))
    expired = list(session.scalars(
        select(Report.id).where(Report.created_at < older_than, Report.status.in_(FINAL_STATUSES))
        .order_by(Report.created_at).limit(RETENTION_BATCH_REPORTS)
    ))
    return delete_reports(session, expired)


def retention_cutoff(now: float, retention_days: float) -> float | None:
    """Reports created before this epoch second have expired; None when reports are kept forever."""
    return None if retention_days <= 0 else now - retention_days * SECONDS_PER_DAY
