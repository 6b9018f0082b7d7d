"""Report persistence: SQLAlchemy tables, the job state machine, artifacts."""

from webapp.store.database import Store, default_database_url
from webapp.store.tables import (
    CANCELLED, DONE, FAILED, FINAL_STATUSES, IMPORT, PENDING_STATUSES, QUEUED, RUNNING, SCRIPT, Artifact, Report,
)

__all__ = [
    "Store", "default_database_url", "Report", "Artifact",
    "QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED", "PENDING_STATUSES", "FINAL_STATUSES", "SCRIPT", "IMPORT",
]
