"""speedscope JSON export, the format the bundled speedscope viewer opens.

Valid against speedscope's ``file-format-schema.json``: no ``null`` anywhere
(absent frame fields are left out), one sampled profile per thread in time
order with identical consecutive samples merged (weight = samples x interval,
in seconds), then an aggregated "All threads" profile.

By default it holds at least what ``py-spy record -f speedscope`` writes: frames
per line (name, file, line), every thread in py-spy's order, each named as py-spy
names it (``Thread 4243 "MainThread"``, with ``Process 4242`` in front when
subprocesses were profiled). speedscope opens on the first thread
(``activeProfileIndex`` 0): its time-order view of a real thread is what happened,
while the merged profile's time axis means nothing (its samples are sorted by
name), so the merged profile comes last, for its left-heavy and sandwich views.
``line_level=False`` gives the same file with one frame per function, shown at its
definition line (a smaller file, for tools that want functions).

A top-level ``"flamedeck"`` field (the schema allows extra properties) carries
what speedscope has no place for - the sampling interval, the profile's start
and end, which profile is the merged one, each thread's name, id and process, and
the definition lines read from the script's source - so our importer reads the
file back into exactly the same Profile.
"""

from __future__ import annotations

import re
from typing import BinaryIO

import numpy as np
import orjson

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.model import Frame, Profile, Thread
from webapp.profiles.kernels import text

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
EXPORTER_NAME = "flamedeck"
FORMAT_VERSION = 1  # of the "flamedeck" field; the importer ignores other versions
MERGED_PROFILE_NAME = "All threads"
PROCESS_ID = re.compile(r"pid (\d+)")  # how the importer records py-spy's "Process 4242"


class SpeedscopeExporter(Exporter):
    """Profile -> ``*.speedscope.json``; line-level frames unless ``line_level=False``."""

    name = "speedscope"
    file_suffix = ".speedscope.json"
    media_type = "application/json"

    def __init__(self, line_level: bool = True):
        super().__init__(line_level=line_level)

    def write(self, profile: Profile, out: BinaryIO) -> None:
        """The ``.speedscope.json`` document for ``profile``, as orjson writes it.

        The sample arrays (hundreds of MB for a big profile) are written as bytes
        here, a thread at a time by a compiled loop, and spliced in after the small
        parts orjson wrote; the result is byte for byte what ``orjson.dumps`` of the
        whole document gives, without a Python list per sample.
        """
        source = self.frames_of(profile)
        stack_json = _StackJson(source)
        merged_profile = len(source.threads)
        document = {
            "$schema": SCHEMA_URL,
            "exporter": EXPORTER_NAME,
            "name": source.name,
            "activeProfileIndex": 0,  # the first real thread (or the merged one, when there is none)
            "flamedeck": {
                "version": FORMAT_VERSION,
                "interval_s": source.interval_s,
                "merged_profile": merged_profile,
                "start_s": source.start_s,
                "end_s": source.end_s,
                "threads": [_thread_meta(thread) for thread in source.threads],
                "definitions": [[name, file, line] for (name, file), line in sorted(source.definition_lines.items())],
            },
            "shared": {"frames": [_frame_entry(frame) for frame in source.frames]},
        }
        # "profiles" comes last: reopen the object; each thread's (large) text goes out
        # as soon as it is made.
        out.write(orjson.dumps(document)[:-1])
        out.write(b',"profiles":[')
        for position, thread in enumerate(source.threads):
            _thread_profile(out, source, thread, position, stack_json)
            out.write(b",")
        _merged_profile(out, source, stack_json)
        out.write(b"]}")


class _StackJson:
    """Stacks of the profile's table as JSON arrays of frame numbers (``[0,4,7]``): each
    distinct stack's text made once, then copied for a list of stack ids, joined with ",",
    by compiled loops (:mod:`webapp.profiles.kernels.text`)."""

    def __init__(self, profile: Profile):
        numbers = [b"%d" % index for index in range(len(profile.frames))]
        widths = np.fromiter(map(len, numbers), dtype=np.int64, count=len(numbers))
        frames, starts, lengths = profile.stacks.arrays()
        self.row_ends = np.empty(len(lengths), dtype=np.int64)  # each stack's row of the blob
        self.blob = np.frombuffer(text.stack_text(
            np.frombuffer(b"".join(numbers), dtype=np.uint8), np.cumsum(widths), frames, starts, lengths,
            np.arange(len(lengths), dtype=np.int64), b",", b"[", b"]", b"", ends=self.row_ends), dtype=np.uint8)

    def joined(self, stack_ids: np.ndarray) -> bytes:
        return text.joined_rows(self.blob, self.row_ends, np.asarray(stack_ids, dtype=np.int64), b",")


def _weights_json(counts: np.ndarray, interval: float) -> bytes:
    """``count * interval`` for each count, comma-separated, each number as orjson writes it:
    each distinct count's text made once, then copied per count by a compiled loop."""
    distinct, which = np.unique(counts, return_inverse=True)
    texts = [orjson.dumps(count * interval) for count in distinct.tolist()]
    row_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
    return text.joined_rows(np.frombuffer(b"".join(texts), dtype=np.uint8), row_ends,
                            which.ravel().astype(np.int64), b",")


def _frame_entry(frame: Frame) -> dict:
    """A speedscope frame; unknown file or line are left out (the schema forbids null)."""
    entry: dict = {"name": frame.name}
    if frame.file:
        entry["file"] = frame.file
    if frame.line:
        entry["line"] = frame.line
    return entry


def _thread_meta(thread: Thread) -> dict:
    meta: dict = {"name": thread.name}
    if thread.process:
        meta["process"] = thread.process
    if thread.tid is not None:
        meta["tid"] = thread.tid
    return meta


def thread_title(thread: Thread, position: int) -> str:
    """The thread's profile name: py-spy's own form when the thread id is known."""
    if thread.tid is None:
        return thread.label or f"Thread {position + 1}"
    process = PROCESS_ID.fullmatch(thread.process)
    prefix = f"Process {process[1]} " if process else (f"{thread.process} " if thread.process else "")
    return f'{prefix}Thread {thread.tid} "{thread.name}"'


def _sampled(out: BinaryIO, name: str, start_s: float, end_s: float, samples: bytes, weights: bytes) -> None:
    """Write one sampled profile's JSON; ``samples`` and ``weights`` are already JSON (no brackets)."""
    head = orjson.dumps({
        "type": "sampled",
        "name": name,
        "unit": "seconds",
        "startValue": start_s,
        "endValue": end_s,
    })[:-1]
    for part in (head, b',"samples":[', samples, b'],"weights":[', weights, b"]}"):
        out.write(part)


def _thread_profile(out: BinaryIO, profile: Profile, thread: Thread, position: int, stack_json: _StackJson) -> None:
    """One thread's samples in time order; runs of one stack are already merged in the model."""
    interval = profile.interval_s
    _sampled(
        out,
        thread_title(thread, position),
        profile.start_s,
        profile.start_s + thread.sample_count * interval,  # like py-spy: the thread's sampled time
        stack_json.joined(np.frombuffer(thread.stack_ids, dtype=np.uint32)),
        _weights_json(np.frombuffer(thread.counts, dtype=np.uint32), interval),
    )


def _merged_profile(out: BinaryIO, profile: Profile, stack_json: _StackJson) -> None:
    """Every thread's samples summed per distinct stack.

    Sorted by the frames' names (like flamegraph.pl does), so stacks sharing a
    prefix sit side by side and speedscope's time-order view draws a classic
    flame graph with each function once per caller. That is the call tree's
    pre-order (siblings by name, file, line), so the order of the stacks' last nodes.
    """
    totals = profile.stack_weights()
    used = np.flatnonzero(totals)
    ordered = used[np.argsort(profile.call_tree().leaf[used], kind="stable")]
    interval = profile.interval_s
    _sampled(
        out,
        MERGED_PROFILE_NAME,
        profile.start_s,
        profile.start_s + int(totals.sum()) * interval,
        stack_json.joined(ordered),
        _weights_json(totals[ordered], interval),
    )
