"""Artifacts: a report's downloadable files, kept gzip-compressed in the database.

Stored compressed so that they are small in the database and can be sent as-is
to any client that accepts gzip; the SHA-256 of the plain bytes is the ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.store.tables import Artifact

GZIP_LEVEL = 6  # zlib's default: most of the gain of 9 at a fraction of the time
# A big artifact (the speedscope file of a 1 GiB import) takes 15x longer at level 6 than at 1
# (35 s against 2 s for 200 MB, measured) for a file about 20 % smaller: not worth it.
BIG_ARTIFACT_BYTES = 8 * 1024 * 1024
BIG_GZIP_LEVEL = 1


@dataclass(frozen=True)
class Compressed:
    """An artifact ready to store: compress before a write transaction, so that it stays short."""

    size_bytes: int
    sha256: str
    gzip_data: bytes


def compress(data: bytes) -> Compressed:
    level = BIG_GZIP_LEVEL if len(data) > BIG_ARTIFACT_BYTES else GZIP_LEVEL
    return Compressed(len(data), hashlib.sha256(data).hexdigest(), gzip.compress(data, compresslevel=level, mtime=0))


class CompressingWriter:
    """A binary file object that gzips what is written as it comes and hashes the plain
    bytes, so that an artifact of hundreds of MB never exists whole, uncompressed.

    The level is chosen as :func:`compress` chooses it, without knowing the size first:
    the first BIG_ARTIFACT_BYTES are held plain; a stream that ends within them goes to
    :func:`compress` whole, a longer one is compressed at BIG_GZIP_LEVEL from its first byte.
    """

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._held: list[bytes] = []
        self._held_size = 0
        self._out = io.BytesIO()
        self._gzip: gzip.GzipFile | None = None

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        self._size += len(data)
        if self._gzip is not None:
            self._gzip.write(data)
            return len(data)
        self._held.append(bytes(data))
        self._held_size += len(data)
        if self._held_size > BIG_ARTIFACT_BYTES:
            self._gzip = gzip.GzipFile(fileobj=self._out, mode="wb", compresslevel=BIG_GZIP_LEVEL, mtime=0)
            for part in self._held:
                self._gzip.write(part)
            self._held = []
        return len(data)

    def finish(self) -> Compressed:
        """The artifact, ready to store; the writer is done."""
        if self._gzip is None:  # small: all of it is still held
            return compress(b"".join(self._held))
        self._gzip.close()
        return Compressed(self._size, self._sha256.hexdigest(), self._out.getvalue())


def compress_written(write: Callable[[BinaryIO], None]) -> Compressed:
    """The artifact that ``write(file)`` writes, compressed as it is written."""
    writer = CompressingWriter()
    write(writer)
    return writer.finish()


def add_artifacts(session: Session, report_id: int, artifacts: dict[str, bytes | Compressed]) -> None:
    """Store each (name, bytes) of a report, compressed (unless it already is)."""
    for name, data in artifacts.items():
        ready = data if isinstance(data, Compressed) else compress(data)
        session.add(Artifact(report_id=report_id, name=name, size_bytes=ready.size_bytes, sha256=ready.sha256,
                             gzip_data=ready.gzip_data))


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
