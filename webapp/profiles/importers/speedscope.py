"""Importer for speedscope JSON files: sampled and evented profiles, from any producer.

Reads what ``py-spy record --format speedscope`` writes, what our own
speedscope exporter writes (which adds a ``"flamedeck"`` field so that
re-import is exact), pyinstrument's ``-r speedscope`` and other producers'
files: several profiles per file (one thread each), evented profiles
(see :mod:`.speedscope_evented`), frames with columns (the column is not
kept: flamedeck's frames are lines). Memory ("bytes") profiles are skipped.

py-spy specifics handled here:

* thread profiles are named ``Thread 6466 "MainThread"``, or with
  ``--subprocesses`` ``Process 6696 Thread 6696 "MainThread"``: the quoted name
  becomes :attr:`Thread.name` (kept empty when py-spy wrote ``""``), the id
  :attr:`Thread.tid`, and the process :attr:`Thread.process` (``"pid 6696"``),
  so that our export can name every thread exactly as py-spy did;
* with ``--subprocesses`` every stack starts with synthetic frames named like
  ``process 6696:"/path/python script.py"``; they leak host paths and command
  lines, so they are dropped;
* every weight is one sampling interval, so weights become sample counts.

Large files go through :mod:`.speedscope_scan`, which never decodes a stack
it has already seen; anything unusual falls back to a plain ``orjson.loads``.
Both roads end in the same :func:`_build`, so they give identical Profiles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from webapp.profiles.importers.base import Importer, head_and_tail, name_from_filename
from webapp.profiles.importers.json_input import JsonImporter
from webapp.profiles.importers.runs import LengthMismatch, fill_thread
from webapp.profiles.importers.speedscope_columns import ParsedColumns, ScannedColumns, WeightColumn
from webapp.profiles.importers.speedscope_evented import evented_interval_s, read_evented
from webapp.profiles.importers.speedscope_frames import FrameTable
from webapp.profiles.importers.speedscope_scan import FastPathUnsuitable, scan_file
from webapp.profiles.model import Profile, ProfileFormatError, Thread

SCHEMA_MARK = b"speedscope.app/file-format-schema.json"
UTF8_BOM = b"\xef\xbb\xbf"
JSON_WHITESPACE = b" \t\r\n"
# Files at least this big are read by the byte scanner; smaller ones by orjson.loads.
FAST_PATH_MIN_BYTES = 1024 * 1024
# Used when a file says nothing about its sampling interval (no time weights at all).
DEFAULT_INTERVAL_S = 0.01
FLAMEDECK_KEY = "flamedeck"
FLAMEDECK_FORMAT_VERSION = 1
SECONDS_PER_UNIT = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}
COUNT_UNIT = "none"  # weights are already sample counts
SKIPPED_UNITS = {"bytes"}
PROFILE_TYPES = ("sampled", "evented")  # memory profiles: nothing to show as time
Columns = ParsedColumns | ScannedColumns
PYSPY_THREAD_NAME = re.compile(r'(?:Process (\d+) )?Thread (\d+) "(.*)"', re.DOTALL)


class SpeedscopeImporter(Importer):
    """speedscope JSON (py-spy's output, our own export, other tools' sampled profiles)."""

    name = "speedscope"
    description = "speedscope JSON (for example from `py-spy record --format speedscope`)"
    label = "speedscope"

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """A JSON object naming speedscope's schema near its start or end."""
        head, tail = head_and_tail(data)
        starts_like_json = head.removeprefix(UTF8_BOM).lstrip().startswith(b"{")
        return starts_like_json and (SCHEMA_MARK in head or SCHEMA_MARK in tail)

    def load(self, data: bytes, filename: str = "") -> Profile:
        """See :func:`read_speedscope`."""
        return read_speedscope(data, filename)


class SpeedscopeDocumentImporter(JsonImporter):
    """speedscope documents that do not name the schema (some converters leave ``$schema`` out)."""

    name = "speedscope"
    description = SpeedscopeImporter.description
    label = "speedscope"
    hints = (b'"profiles"', b'"shared"')

    def recognizes_document(self, document: object) -> bool:
        return (isinstance(document, dict) and isinstance(document.get("profiles"), list)
                and isinstance(document.get("shared"), dict) and isinstance(document["shared"].get("frames"), list))

    def load_document(self, document: object, filename: str = "") -> Profile:
        return _build(document, filename, ParsedColumns())


def read_speedscope(
    data: bytes, filename: str = "", *, fast_path_min_bytes: int = FAST_PATH_MIN_BYTES
) -> Profile:
    """Read a speedscope file; the byte scanner for big files, orjson for the rest."""
    data = data.removeprefix(UTF8_BOM)  # the same object when there is none
    if not _ends_like_an_object(data):
        raise ProfileFormatError(
            "This speedscope file ends in the middle of its data, so it was probably cut off "
            "while being written or uploaded. Record or upload it again."
        )
    if len(data) >= fast_path_min_bytes:
        try:
            return read_scanned(data, filename)
        except FastPathUnsuitable:
            pass  # an unusual layout: the generic parser copes with it
    return read_parsed(data, filename)


def _ends_like_an_object(data: bytes) -> bool:
    """Does the last non-whitespace byte close a JSON object? (no copy of big data)"""
    end = len(data)
    while end and data[end - 1] in JSON_WHITESPACE:
        end -= 1
    return end > 0 and data[end - 1] == ord("}")


def read_scanned(data: bytes, filename: str = "") -> Profile:
    """The fast road: scan the raw bytes (see speedscope_scan); FastPathUnsuitable if it can't."""
    scanned = scan_file(data)
    with ScannedColumns(data, scanned) as columns:
        return _build(scanned.document, filename, columns)


def read_parsed(data: bytes, filename: str = "") -> Profile:
    """The generic road: ``orjson.loads`` the whole file, then build the Profile."""
    return _build(_parse_whole(data), filename, ParsedColumns())


def _parse_whole(data: bytes) -> object:
    """orjson.loads with a user-facing error."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ProfileFormatError(
            f"This file looks like a speedscope profile but is not valid JSON (it breaks at "
            f"byte {error.pos}). It may be damaged or cut off; export or upload it again."
        ) from error


@dataclass(slots=True)
class _Metadata:
    """What our own exporter adds under the top-level ``"flamedeck"`` key."""

    interval_s: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    merged_profile: int | None = None
    threads: list[tuple[str, str, int | None]] | None = None
    definition_lines: dict[tuple[str, str], int] | None = None


def _read_metadata(document: dict) -> _Metadata:
    """Our export's extra field; anything malformed in it is ignored, not fatal."""
    raw = document.get(FLAMEDECK_KEY)
    meta = _Metadata()
    if not isinstance(raw, dict) or raw.get("version") != FLAMEDECK_FORMAT_VERSION:
        return meta
    interval = raw.get("interval_s")
    if type(interval) in (int, float) and interval > 0:
        meta.interval_s = float(interval)
    if type(raw.get("start_s")) in (int, float) and type(raw.get("end_s")) in (int, float):
        meta.start_s, meta.end_s = float(raw["start_s"]), float(raw["end_s"])
    if type(raw.get("merged_profile")) is int:
        meta.merged_profile = raw["merged_profile"]
    threads = raw.get("threads")
    if isinstance(threads, list) and all(isinstance(t, dict) for t in threads):
        names = [(t.get("name"), t.get("process", ""), t.get("tid")) for t in threads]
        if all(isinstance(n, str) and isinstance(p, str) and (i is None or type(i) is int) for n, p, i in names):
            meta.threads = names
    meta.definition_lines = _read_definitions(raw.get("definitions"))
    return meta


def _read_definitions(raw: object) -> dict[tuple[str, str], int] | None:
    """``[[name, file, line], ...]``: the definition lines our export knew; None if malformed."""
    if not isinstance(raw, list):
        return None
    lines = {}
    for entry in raw:
        if not (isinstance(entry, list) and len(entry) == 3):
            return None
        name, file, line = entry
        if not (isinstance(name, str) and isinstance(file, str) and type(line) is int and line > 0):
            return None
        lines[(name, file)] = line
    return lines


def _sampled_profiles(document: object) -> tuple[list[tuple[int, dict]], _Metadata]:
    """(index in the file, profile) of the sampled profiles worth importing, and our metadata."""
    if not isinstance(document, dict) or not isinstance(document.get("profiles"), list):
        raise ProfileFormatError(
            "This speedscope file has no list of profiles, so there is nothing to show. "
            "Check that it was written by a profiler such as py-spy."
        )
    meta = _read_metadata(document)
    chosen = []
    for position, item in enumerate(document["profiles"]):
        if position == meta.merged_profile or not isinstance(item, dict) or item.get("type") not in PROFILE_TYPES:
            continue
        unit = item.get("unit")
        if unit in SKIPPED_UNITS:
            continue
        if unit != COUNT_UNIT and unit not in SECONDS_PER_UNIT:
            raise ProfileFormatError(
                f"Profile {position + 1} of this speedscope file has the unknown unit {unit!r}; "
                f"expected one of {', '.join(sorted([*SECONDS_PER_UNIT, COUNT_UNIT]))}."
            )
        chosen.append((position, item))
    # An empty list is a valid file of a run that took no samples (py-spy writes one);
    # the caller decides what "no samples" means. Only other kinds of profiles are refused.
    if not chosen and document["profiles"]:
        raise ProfileFormatError(
            "This speedscope file holds no CPU profile (only memory profiles or kinds speedscope "
            "does not define). flamedeck shows sampled and evented time profiles."
        )
    if meta.threads is not None and len(meta.threads) != len(chosen):
        meta.threads = None
    return chosen, meta


def _number(item: dict, key: str) -> float:
    """A numeric field of a profile; 0 when absent (tolerated: only the time axis needs it)."""
    value = item.get(key, 0)
    return float(value) if type(value) in (int, float) else 0.0


def _thread_identity(item: dict, position: int) -> tuple[str, str, int | None]:
    """(thread name, process, thread id) from a profile's name, py-spy style when it matches."""
    label = item.get("name") if isinstance(item.get("name"), str) else ""
    match = PYSPY_THREAD_NAME.fullmatch(label)
    if match is None:
        return label or f"Thread {position + 1}", "", None
    pid, tid, quoted = match.groups()
    return quoted, f"pid {pid}" if pid else "", int(tid)


def _profile_name(document: dict, filename: str) -> str:
    """The file's own name when it has one, else the upload's file name."""
    name = document.get("name")
    return name if isinstance(name, str) and name.strip() else name_from_filename(filename)


def _interval_s(chosen: list[tuple[int, dict]], weights: list[WeightColumn], meta: _Metadata) -> float:
    """Seconds per sample: ours when we wrote the file, else the smallest weight (py-spy: all equal)."""
    if meta.interval_s:
        return meta.interval_s
    candidates = [
        min(column.distinct_positive) * SECONDS_PER_UNIT[item["unit"]]
        for (_, item), column in zip(chosen, weights)
        if item["unit"] in SECONDS_PER_UNIT and column.distinct_positive
    ]
    return min(candidates, default=DEFAULT_INTERVAL_S)


def _build(document: object, filename: str, columns: Columns) -> Profile:
    """The Profile for a parsed (or skeleton) document; ``columns`` reads its arrays."""
    chosen, meta = _sampled_profiles(document)
    columns.check_placeholders(document)
    sampled = [(position, item) for position, item in chosen if item["type"] == "sampled"]
    evented = [(position, item) for position, item in chosen if item["type"] == "evented"]
    columns.start([item for _, item in sampled])
    weights = {position: columns.weights(item, position) for position, item in sampled}
    timed = [(item, SECONDS_PER_UNIT[item["unit"]]) for _, item in chosen if item["unit"] in SECONDS_PER_UNIT]
    interval_s = (
        _interval_s(sampled, list(weights.values()), meta) if sampled or meta.interval_s
        else evented_interval_s(evented, SECONDS_PER_UNIT)
    )
    profile = Profile(
        name=_profile_name(document, filename),
        interval_s=interval_s,
        start_s=min((_number(item, "startValue") * factor for item, factor in timed), default=0.0),
        end_s=max((_number(item, "endValue") * factor for item, factor in timed), default=0.0),
    )
    if meta.start_s is not None:
        profile.start_s, profile.end_s = meta.start_s, meta.end_s
    if meta.definition_lines:
        profile.definition_lines = meta.definition_lines
    frames = FrameTable(document.get("shared"), profile)
    for order, (position, item) in enumerate(chosen):
        name, process, tid = meta.threads[order] if meta.threads else _thread_identity(item, order)
        thread = profile.add_thread(name, process, tid)
        if item["type"] == "sampled":
            _read_thread(thread, item, position, weights[position], columns, frames)
        else:
            read_evented(thread, item, position, frames, SECONDS_PER_UNIT.get(item["unit"], 1.0), interval_s)
    return profile


def _read_thread(
    thread: Thread, item: dict, position: int, weights: WeightColumn, columns: Columns, frames: FrameTable
) -> None:
    """Fill ``thread`` from profile number ``position`` of the file."""
    seconds_per_unit = SECONDS_PER_UNIT.get(item["unit"])
    scale = seconds_per_unit / frames.profile.interval_s if seconds_per_unit else 1.0
    try:
        runs, stacks = columns.runs(item, position, weights, scale)
    except LengthMismatch:
        raise columns.length_mismatch(position) from None
    except TypeError as error:  # a sample holding lists or objects: unhashable
        raise ProfileFormatError(
            f"A sample of profile {position + 1} of this speedscope file is not a list of "
            "frame numbers, so the file is damaged. Export it again."
        ) from error
    stack_of_key = frames.stack_ids(stacks, position)
    try:
        fill_thread(thread, runs, stack_of_key)
    except OverflowError as error:
        raise ProfileFormatError(
            f"Profile {position + 1} of this speedscope file repeats one stack more often "
            "than flamedeck can count. Check that it holds CPU samples."
        ) from error
