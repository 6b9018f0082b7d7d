"""speedscope JSON export, the format the bundled speedscope viewer opens.

Valid against speedscope's ``file-format-schema.json``: no ``null`` anywhere
(absent frame fields are left out), one sampled profile per thread in time
order with identical consecutive samples merged (weight = samples x interval,
in seconds), and an aggregated "All threads" profile placed last and opened
first (``activeProfileIndex``).

A top-level ``"flamedeck"`` field (the schema allows extra properties) carries
what speedscope has no place for - the sampling interval, the profile's start
and end, which profile is the merged one, each thread's name and process - so
our importer reads the file back into exactly the same Profile.
"""

from __future__ import annotations

import orjson

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.model import Frame, Profile, Thread

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
EXPORTER_NAME = "flamedeck"
FORMAT_VERSION = 1  # of the "flamedeck" field; the importer ignores other versions
MERGED_PROFILE_NAME = "All threads"


class SpeedscopeExporter(Exporter):
    """Profile -> ``*.speedscope.json``; function-level frames unless ``line_level``."""

    name = "speedscope"
    file_suffix = ".speedscope.json"
    media_type = "application/json"

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
            "activeProfileIndex": len(profiles) - 1,
            "flamedeck": {
                "version": FORMAT_VERSION,
                "interval_s": source.interval_s,
                "merged_profile": len(profiles) - 1,
                "start_s": source.start_s,
                "end_s": source.end_s,
                "threads": [_thread_meta(thread) for thread in source.threads],
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
    return {"name": thread.name, "process": thread.process} if thread.process else {"name": thread.name}


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
        thread.label or f"Thread {position + 1}",
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
