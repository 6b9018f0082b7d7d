"""Importer registry: from the bytes of an uploaded or captured file to a Profile.

Each importer is asked in turn whether the file is its format; the first that
says yes reads it.  To support a new format, write a module with an
:class:`~webapp.profiles.importers.base.Importer` subclass and add one line to
``IMPORTERS``.  Order matters only when two formats could both claim a file:
list the stricter one first.
"""

from __future__ import annotations

from webapp.profiles.importers.base import Importer
from webapp.profiles.importers.speedscope import SpeedscopeImporter
from webapp.profiles.model import Profile, ProfileFormatError

IMPORTERS: list[Importer] = [
    SpeedscopeImporter(),
]


def find_importer(data: bytes, filename: str = "") -> Importer | None:
    """The first importer that recognises ``data``, or None."""
    for importer in IMPORTERS:
        if importer.recognizes(data, filename):
            return importer
    return None


def load_profile(data: bytes, filename: str = "") -> Profile:
    """Read a profile file of any supported format; ProfileFormatError if we can't."""
    if not isinstance(data, bytes):
        data = bytes(data)
    if not data.strip():
        raise ProfileFormatError(
            "The file is empty. Choose a profile file, for example the output of "
            "`py-spy record --format speedscope`."
        )
    importer = find_importer(data, filename)
    if importer is None:
        formats = "; ".join(item.description for item in IMPORTERS)
        what = f"The file “{filename}”" if filename else "This file"
        raise ProfileFormatError(
            f"{what} is not in a profile format flamedeck can read. "
            f"Supported formats: {formats}. Check that you chose the right file."
        )
    return importer.load(data, filename)


__all__ = ["IMPORTERS", "Importer", "find_importer", "load_profile"]
