"""Turning an untrusted upload (a .zip, or several files) into a Project, or refusing it.

Everything is checked from the archive's directory before a byte is unpacked, and
again while reading (the sizes a zip declares can lie): a path that could land
outside the project (``..``, absolute, a drive letter, a backslash), a symlink or
other special file, an encrypted member, a duplicate, too many files, too many
bytes, or a member that inflates beyond ``max_zip_ratio`` times its compressed size
(a zip bomb). Nothing is written to disk here: the caller stores the project only
once it is whole.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from .project import Project, ProjectError, choose_entry
from webapp.units import human_size

IGNORED_DIRECTORIES = ("__MACOSX", "__pycache__", ".git")  # archive-tool noise, never the user's program
READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ProjectLimits:
    """Each field is the setting of the same name in upper case (``MAX_PROJECT_FILES`` ...)."""

    max_project_files: int = 200
    max_project_bytes: int = 16 * 1024 * 1024
    max_zip_ratio: int = 100


def from_zip(data: bytes, limits: ProjectLimits, entry: str = "", name: str = "the archive") -> Project:
    """The project in a .zip upload; ProjectError (nothing unpacked) when it is unsafe or too big."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ProjectError(f"{name} is not a .zip archive. Upload a .zip of your project, or its .py files.") from None
    with archive:
        members = [info for info in archive.infolist() if _kept(info)]
        for info in members:
            _check_member(info, limits, name)
        _check_totals([(info.filename, info.file_size) for info in members], limits)
        files = {}
        for info in members:
            path = _safe_path(info.filename, name)
            if path in files:
                raise ProjectError(f"{name} holds '{path}' twice. Make one archive with each file once.")
            files[path] = _read_member(archive, info, limits, name)
    files = _without_common_folder(files)
    _check_totals([(path, len(content)) for path, content in files.items()], limits)
    return _project(files, entry)


def from_files(uploads: list[tuple[str, bytes]], limits: ProjectLimits, entry: str = "") -> Project:
    """Several files uploaded at once: a flat project of those names."""
    files: dict[str, bytes] = {}
    for name, content in uploads:
        path = _safe_path(name, "the upload")
        if "/" in path:
            path = path.rsplit("/", 1)[-1]
        if path in files:
            raise ProjectError(f"Two uploaded files are called '{path}'. Give each file a different name.")
        files[path] = content
    _check_totals([(path, len(content)) for path, content in files.items()], limits)
    return _project(files, entry)


def _project(files: dict[str, bytes], entry: str) -> Project:
    chosen = choose_entry(list(files), entry)
    try:
        files[chosen].decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectError(f"The entry script '{chosen}' is not UTF-8 text. Save it as UTF-8.") from None
    return Project(dict(sorted(files.items())), chosen)


def _kept(info: zipfile.ZipInfo) -> bool:
    """Directories and archive-tool noise are skipped (a symlink is never a directory entry)."""
    parts = info.filename.replace("\\", "/").split("/")
    if info.is_dir() and not _is_symlink(info):
        return False
    return not any(part in IGNORED_DIRECTORIES for part in parts) and parts[-1] != ".DS_Store"


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _check_member(info: zipfile.ZipInfo, limits: ProjectLimits, name: str) -> None:
    mode = info.external_attr >> 16
    if _is_symlink(info):
        raise ProjectError(
            f"{name} contains a symbolic link ('{info.filename}'), which is not allowed. "
            "Put the real file in the archive instead."
        )
    if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise ProjectError(f"{name} contains '{info.filename}', which is not a regular file.")
    if info.flag_bits & 0x1:
        raise ProjectError(f"{name} is encrypted ('{info.filename}'). Upload an archive without a password.")
    _safe_path(info.filename, name)
    if info.file_size > limits.max_zip_ratio * max(info.compress_size, 1) and info.file_size > READ_CHUNK_BYTES:
        raise ProjectError(
            f"{name} looks like a zip bomb: '{info.filename}' would unpack to {human_size(info.file_size)} from "
            f"{human_size(info.compress_size)} (more than {limits.max_zip_ratio} times). Upload the project's real files.",
        )


def _safe_path(raw: str, name: str) -> str:
    """A relative POSIX path that stays inside the project, or ProjectError."""
    if "\\" in raw or "\0" in raw:
        raise ProjectError(f"{name} has a file name with a backslash or NUL ('{raw!r}'), which is not allowed.")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise ProjectError(f"{name} contains an absolute path ('{raw}'). Archive the project with relative paths.")
    parts = [part for part in PurePosixPath(raw).parts if part != "."]
    if ".." in parts:
        raise ProjectError(f"{name} contains a path that leaves the project ('{raw}'), which is not allowed.")
    if not parts:
        raise ProjectError(f"{name} contains a file without a name.")
    return "/".join(parts)


def _check_totals(sizes: list[tuple[str, int]], limits: ProjectLimits) -> None:
    if len(sizes) > limits.max_project_files:
        raise ProjectError(
            f"The project has {len(sizes):,} files; at most {limits.max_project_files:,} are allowed. "
            "Leave out what the script does not need.", 413,
        )
    total = sum(size for _path, size in sizes)
    if total > limits.max_project_bytes:
        raise ProjectError(
            f"The project's files add up to {human_size(total)}; at most {human_size(limits.max_project_bytes)} are allowed. "
            "Leave out large data files, or use a smaller sample of them.", 413,
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ProjectLimits, name: str) -> bytes:
    """Read one member, never more than it declared (zipfile checks the CRC at the end)."""
    chunks, read = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(READ_CHUNK_BYTES):
                read += len(chunk)
                if read > info.file_size or read > limits.max_project_bytes:
                    raise ProjectError(f"{name} is damaged: '{info.filename}' is longer than it says.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, OSError) as error:
        raise ProjectError(f"{name} cannot be read ('{info.filename}': {error}).") from None
    return b"".join(chunks)


def _without_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """A zip of a folder ("myproject/main.py", ...) is the folder's contents."""
    tops = {path.split("/", 1)[0] for path in files}
    if len(tops) == 1 and all("/" in path for path in files):
        return {path.split("/", 1)[1]: content for path, content in files.items()}
    return files
