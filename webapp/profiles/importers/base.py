"""The contract every importer follows.

An importer answers two questions: "is this file mine?" (cheap, never raises,
looks only at the first and last bytes) and "read it" (raises
:class:`~webapp.profiles.model.ProfileFormatError` with a sentence for the user
when the file is its format but damaged).  Keeping the two apart lets the
registry tell "we don't know this format" from "this file is broken".
"""

from __future__ import annotations

from pathlib import PurePath

from webapp.profiles.model import Profile

# How much of the start and end of a file an importer may look at to recognise it.
SNIFF_BYTES = 64 * 1024

# Suffixes stripped from an upload's file name to name the profile after it.
PROFILE_FILE_SUFFIXES = (
    ".speedscope.json", ".cpuprofile", ".json.gz", ".json", ".collapsed.txt", ".folded", ".txt",
    ".pb.gz", ".pb", ".pprof", ".prof", ".pstats", ".austin", ".perf", ".gz",
)


class Importer:
    """Base class: one subclass per input format."""

    name: str = ""  # short id, e.g. "speedscope"
    description: str = ""  # for error messages: what this importer reads, for a user
    label: str = ""  # the format's name inside a sentence: "This <label> file ..."
    # A sentence for the report when the format records no samples and the profile is
    # derived from something else (cProfile's call graph); "" for a faithful import.
    approximation: str = ""

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """True when ``data`` looks like this importer's format; never raises."""
        raise NotImplementedError

    def load(self, data: bytes, filename: str = "") -> Profile:
        """Read ``data``; raise ProfileFormatError when it is damaged."""
        raise NotImplementedError


def head_and_tail(data: bytes, size: int = SNIFF_BYTES) -> tuple[bytes, bytes]:
    """The first and last ``size`` bytes, for recognising a format cheaply."""
    return data[:size], data[-size:]


def name_from_filename(filename: str, default: str = "profile") -> str:
    """``"bench.speedscope.json"`` -> ``"bench"``; the default when there is no name."""
    base = PurePath(filename.replace("\\", "/")).name if filename else ""
    for suffix in PROFILE_FILE_SUFFIXES:
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base or default
