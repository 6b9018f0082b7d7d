"""Importer registry: from the bytes of an uploaded or captured file to a Profile.

A file is recognised by its content, never by its name alone:

1. a gzip-compressed file is expanded first (up to a limit: gzip bombs);
2. each byte-level importer is asked in turn whether the file is its format
   (speedscope, pstats, pprof, Austin, ``perf script``, collapsed stacks) and
   the first that says yes reads it;
3. any other JSON file is parsed once and each JSON importer is asked whether
   the document's structure is its own.

To support a new format, write a module with an
:class:`~webapp.profiles.importers.base.Importer` (or
:class:`~webapp.profiles.importers.json_input.JsonImporter`) subclass and add
one line below. Order matters only when two formats could both claim a file:
the stricter one comes first (Austin before collapsed stacks, whose lines
Austin's also match).
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.profiles.importers.austin import AustinImporter
from webapp.profiles.importers.base import Importer
from webapp.profiles.importers.chrome_cpuprofile import CpuProfileImporter
from webapp.profiles.importers.collapsed import CollapsedImporter
from webapp.profiles.importers.compression import DEFAULT_MAX_DECOMPRESSED_BYTES, maybe_gunzip
from webapp.profiles.importers.gecko import GeckoImporter
from webapp.profiles.importers.json_input import JsonImporter, looks_like_json, parse_json
from webapp.profiles.importers.perf_script import PerfScriptImporter
from webapp.profiles.importers.pprof import PprofImporter
from webapp.profiles.importers.pstats import PstatsImporter
from webapp.profiles.importers.pyinstrument import PyinstrumentImporter
from webapp.profiles.importers.speedscope import SpeedscopeDocumentImporter, SpeedscopeImporter
from webapp.profiles.importers.trace_events import TraceEventImporter
from webapp.profiles.model import Profile, ProfileFormatError

IMPORTERS: list[Importer] = [
    SpeedscopeImporter(),
    PstatsImporter(),
    PprofImporter(),
    AustinImporter(),
    PerfScriptImporter(),
    CollapsedImporter(),
]
JSON_IMPORTERS: list[JsonImporter] = [
    CpuProfileImporter(),
    TraceEventImporter(),
    PyinstrumentImporter(),
    GeckoImporter(),
    SpeedscopeDocumentImporter(),
]


@dataclass(frozen=True, slots=True)
class ImportedProfile:
    """A profile read from a file, with what the report should say about how."""

    profile: Profile
    format: str  # the importer's short name, e.g. "pprof"
    format_description: str
    format_label: str  # the format's short name for a sentence, e.g. "cProfile (pstats)"
    approximation: str = ""  # a sentence when the profile is not a record of samples


def find_importer(data: bytes, filename: str = "") -> Importer | None:
    """The first byte-level importer that recognises ``data``, or None."""
    for importer in IMPORTERS:
        if importer.recognizes(data, filename):
            return importer
    return None


def read_profile(
    data: bytes, filename: str = "", *, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
) -> ImportedProfile:
    """Read a profile file of any supported format; ProfileFormatError if we can't."""
    if not isinstance(data, bytes):
        data = bytes(data)
    if not data.strip():
        raise ProfileFormatError(
            "The file is empty. Choose a profile file, for example the output of "
            "`py-spy record --format speedscope`."
        )
    data = maybe_gunzip(data, max_decompressed_bytes)
    importer = find_importer(data, filename)
    if importer is not None:
        return _imported(importer, importer.load(data, filename))
    if looks_like_json(data):
        head = data[:64 * 1024]
        suggested = next((item for item in JSON_IMPORTERS if item.suggested_by(head)), None)
        document = parse_json(data, suggested.label if suggested else "JSON")
        for json_importer in JSON_IMPORTERS:
            if json_importer.recognizes_document(document):
                return _imported(json_importer, json_importer.load_document(document, filename))
    formats = "; ".join(format_names())
    what = f"The file “{filename}”" if filename else "This file"
    raise ProfileFormatError(
        f"{what} is not in a profile format flamedeck can read. "
        f"Supported formats: {formats}. Check that you chose the right file."
    )


def load_profile(data: bytes, filename: str = "", **limits) -> Profile:
    """Just the Profile of :func:`read_profile`."""
    return read_profile(data, filename, **limits).profile


def _imported(importer: Importer, profile: Profile) -> ImportedProfile:
    return ImportedProfile(profile, importer.name, importer.description, importer.label, importer.approximation)


def format_names() -> list[str]:
    """Every input format's short description (once each), for messages and help."""
    return list(dict.fromkeys(item.description for item in [*IMPORTERS, *JSON_IMPORTERS]))


__all__ = ["IMPORTERS", "JSON_IMPORTERS", "ImportedProfile", "Importer", "find_importer",
           "format_names", "load_profile", "read_profile"]
