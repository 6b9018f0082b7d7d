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

import orjson

from webapp.profiles.exporters.base import Exporter
import re

from webapp.profiles.model import Frame, Profile, Thread

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

    def render(self, profile: Profile) -> bytes:
        """The ``.speedscope.json`` document for ``profile``, written by orjson."""
        source = self.frames_of(profile)
        stack_lists = [list(stack) for stack in source.stacks]  # shared by every sample that uses them
        profiles = [
            _thread_profile(source, thread, position, stack_lists) for position, thread in enumerate(source.threads)
        ]
        profiles.append(_merged_profile(source, stack_lists))
        document = {
            "$schema": SCHEMA_URL,
            "exporter": EXPORTER_NAME,
            "name": source.name,
            "activeProfileIndex": 0,  # the first real thread (or the merged one, when there is none)
            "flamedeck": {
                "version": FORMAT_VERSION,
                "interval_s": source.interval_s,
                "merged_profile": len(profiles) - 1,
                "start_s": source.start_s,
                "end_s": source.end_s,
                "threads": [_thread_meta(thread) for thread in source.threads],
                "definitions": [[name, file, line] for (name, file), line in sorted(source.definition_lines.items())],
            },
            "shared": {"frames": [_frame_entry(frame) for frame in source.frames]},
            "profiles": profiles,
        }
        return orjson.dumps(document)


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


def _sampled(name: str, start_s: float, end_s: float, samples: list, weights: list) -> dict:
    return {
        "type": "sampled",
        "name": name,
        "unit": "seconds",
        "startValue": start_s,
        "endValue": end_s,
        "samples": samples,
        "weights": weights,
    }


def _thread_profile(profile: Profile, thread: Thread, position: int, stack_lists: list[list[int]]) -> dict:
    """One thread's samples in time order; runs of one stack are already merged in the model."""
    interval = profile.interval_s
    return _sampled(
        thread_title(thread, position),
        profile.start_s,
        profile.start_s + thread.sample_count * interval,  # like py-spy: the thread's sampled time
        [stack_lists[stack_id] for stack_id in thread.stack_ids],
        [count * interval for count in thread.counts],
    )


def _merged_profile(profile: Profile, stack_lists: list[list[int]]) -> dict:
    """Every thread's samples summed per distinct stack.

    Sorted by the frames' names (like flamegraph.pl does), so stacks sharing a
    prefix sit side by side and speedscope's time-order view draws a classic
    flame graph with each function once per caller.
    """
    totals = profile.stack_counts()
    frames = profile.frames
    by_name = sorted(range(len(frames)), key=lambda i: (frames[i].name, frames[i].file, frames[i].line))
    rank = [0] * len(frames)
    for position, frame_id in enumerate(by_name):
        rank[frame_id] = position

    def order(stack_id: int) -> tuple[int, ...]:
        """Sort key: the stack's frames by their rank in name order."""
        return tuple(map(rank.__getitem__, profile.stacks[stack_id]))

    ordered = sorted(totals, key=order)
    interval = profile.interval_s
    return _sampled(
        MERGED_PROFILE_NAME,
        profile.start_s,
        profile.start_s + sum(totals.values()) * interval,
        [stack_lists[stack_id] for stack_id in ordered],
        [totals[stack_id] * interval for stack_id in ordered],
    )
