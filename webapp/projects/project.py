"""A validated project: its files, its entry script, and how it is stored and laid out."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PROJECT_ARTIFACT = "project.zip"  # how a queued project is stored with its report (and offered back)
SCRIPT_SUFFIX = ".py"
CONVENTIONAL_ENTRIES = ("__main__.py", "main.py")  # what `python DIR` runs, and the usual name
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the stored zip depends on the files only


class ProjectError(ValueError):
    """An upload that cannot be a project; the message says why and what to do.

    ``status_code`` is the HTTP status a web client gets (413 for a size limit);
    ``candidates`` lists the scripts when the entry has to be chosen."""

    def __init__(self, message: str, status_code: int = 400, candidates: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.candidates = candidates or []


@dataclass(frozen=True)
class Project:
    """Files by relative POSIX path (no ``..``, no absolute paths), and the one to run."""

    files: dict[str, bytes]
    entry: str

    @property
    def python_files(self) -> list[str]:
        return sorted(path for path in self.files if path.endswith(SCRIPT_SUFFIX))

    def entry_source(self) -> str:
        return self.files[self.entry].decode("utf-8")

    def to_zip(self) -> bytes:
        """The files as a plain zip (stored uncompressed: the database compresses artifacts)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for path in sorted(self.files):
                archive.writestr(zipfile.ZipInfo(path, FIXED_ZIP_TIME), self.files[path])
        return buffer.getvalue()

    def write_to(self, root: Path) -> Path:
        """Lay the files out under ``root``, read-only for the sandbox user (it reads them through
        the "other" bits; the sandbox binds them read-only too); the owner, the worker, may
        still remove them. Returns the entry's path."""
        root.mkdir(parents=True, exist_ok=True)
        for relative, data in self.files.items():
            target = root.joinpath(*PurePosixPath(relative).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o444)
        for directory, _subdirectories, _files in os.walk(root):
            os.chmod(directory, 0o755)
        return root.joinpath(*PurePosixPath(self.entry).parts)


def from_stored_zip(data: bytes, entry: str) -> Project:
    """A project back from its stored artifact (written by ``to_zip`` after validation)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    return Project(files, entry)


def entry_candidates(paths: list[str]) -> list[str]:
    """The scripts a user may choose to run."""
    return sorted(path for path in paths if path.endswith(SCRIPT_SUFFIX))


def choose_entry(paths: list[str], requested: str = "") -> str:
    """The entry script: the one asked for, else the obvious one; ProjectError with a sentence otherwise.

    Obvious: a top-level ``__main__.py`` or ``main.py``, else the only top-level script, else the only script."""
    candidates = entry_candidates(paths)
    if not candidates:
        raise ProjectError("The project has no .py file, so there is nothing to run. Add the script to profile.")
    requested = requested.strip().lstrip("/")
    if requested:
        if requested not in candidates:
            raise ProjectError(f"The project has no script '{requested}'. Its scripts are: {', '.join(candidates)}.",
                               candidates=candidates)
        return requested
    top_level = [path for path in candidates if "/" not in path]
    for conventional in CONVENTIONAL_ENTRIES:
        if conventional in top_level:
            return conventional
    for group in (top_level, candidates):
        if len(group) == 1:
            return group[0]
    raise ProjectError(
        f"Choose the entry script to run (the 'entry' field): the project has several, "
        f"{', '.join(top_level or candidates)}.", candidates=candidates,
    )
