"""Artifacts: a report's downloadable files, kept gzip-compressed in the database.

Stored compressed so that they are small in the database and can be sent as-is
to any client that accepts gzip; the SHA-256 of the plain bytes is the ETag.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.store.tables import Artifact

GZIP_LEVEL = 6  # zlib's default: most of the gain of 9 at a fraction of the time


def add_artifacts(session: Session, report_id: int, artifacts: dict[str, bytes]) -> None:
    """Store each (name, bytes) of a report, compressed."""
    for name, data in artifacts.items():
        session.add(Artifact(
            report_id=report_id, name=name, size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            gzip_data=gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0),
        ))


@dataclass(frozen=True)
class ArtifactInfo:
    """An artifact's name and size, without its data."""

    name: str
    size_bytes: int


def list_artifacts(session: Session, report_id: int) -> list[ArtifactInfo]:
    """The artifacts of a report, by name."""
    rows = session.execute(
        select(Artifact.name, Artifact.size_bytes).where(Artifact.report_id == report_id).order_by(Artifact.name)
    )
    return [ArtifactInfo(name, size) for name, size in rows]


def load_artifact(session: Session, report_id: int, name: str) -> Artifact | None:
    """One artifact with its compressed data, or None."""
    return session.scalar(select(Artifact).where(Artifact.report_id == report_id, Artifact.name == name))


def plain_bytes(artifact: Artifact) -> bytes:
    """The artifact's uncompressed content."""
    return gzip.decompress(artifact.gzip_data)
