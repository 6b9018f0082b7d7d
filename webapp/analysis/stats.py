"""Per-function, per-line and per-thread statistics of a :class:`Profile`.

Everything here works on the profile's call tree (``Profile.call_tree``: each
distinct call path once) with numpy, never on individual samples nor on each
stack's frames one by one: the cost follows the number of tree nodes.

Counting rules (the same for functions and lines):

* *self* samples go to the leaf (last, innermost) frame of a stack;
* *total* samples go once to every function (or line) present anywhere in the
  stack, so a recursive function is never counted twice in one sample and a
  total never exceeds 100 % of the samples.

Percentages are of all samples in the selection (including samples whose stack
is empty) and are not rounded here; the page formats them.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from webapp.profiles.kernels import tree as tree_kernels
from webapp.profiles.model import Frame, Profile, Thread


@dataclass(frozen=True, slots=True)
class FunctionStat:
    """Samples of one function, identified by (name, file)."""

    name: str
    file: str
    line: int  # the definition line when known, else the smallest line sampled; 0 when none
    self_samples: int
    total_samples: int
    self_percent: float
    total_percent: float
    line_is_definition: bool = False  # False: ``line`` is only the first line sampled in it

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for report.json and templates (``asdict`` deep-copies: 10x slower)."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class LineStat:
    """Samples of one source line, identified by (file, line)."""

    file: str
    line: int
    self_samples: int
    total_samples: int
    self_percent: float
    total_percent: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for report.json and templates (``asdict`` deep-copies: 10x slower)."""
        return {name: getattr(self, name) for name in self.__slots__}


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _self_and_total(
    profile: Profile, threads: Iterable[Thread] | None, key_of_frame: Sequence[int]
) -> tuple[list[int], list[int], set[int], int]:
    """Self and total samples per key id, the frames seen, and the sample count.

    ``key_of_frame[frame_index]`` maps each frame to a small integer key (a
    function or a line). Read off the profile's call tree in one compiled walk
    (:func:`webapp.profiles.kernels.tree.key_sums`): a key's self is the samples
    ending in its nodes, its total the totals of its nodes that have no ancestor
    of the same key (so recursion counts once per sample).
    """
    key_count = max(key_of_frame, default=-1) + 1
    tree = profile.call_tree()
    weights = profile.stack_weights(threads)
    selves = tree.selves(weights)
    self_samples, total_samples, seen = tree_kernels.key_sums(
        np.asarray(key_of_frame, dtype=np.int64), key_count, tree.frame, tree.end, selves, tree.totals(selves))
    return self_samples.tolist(), total_samples.tolist(), set(np.flatnonzero(seen).tolist()), int(weights.sum())


def _intern_keys(frames: Sequence[Frame], key_of: Any) -> tuple[list[int], list[Hashable]]:
    """Map every frame to a dense key id; return that map and the keys by id."""
    ids: dict[Hashable, int] = {}
    key_of_frame = [ids.setdefault(key_of(frame), len(ids)) for frame in frames]
    return key_of_frame, list(ids)


def function_stats(profile: Profile, threads: Iterable[Thread] | None = None) -> list[FunctionStat]:
    """Self/total samples per (name, file), sorted by self, then total, descending."""
    key_of_frame, keys = _intern_keys(profile.frames, lambda frame: frame.function_key)
    self_samples, total_samples, frames_seen, sample_count = _self_and_total(
        profile, threads, key_of_frame
    )
    first_line = [0] * len(keys)
    for frame_index in frames_seen:
        line = profile.frames[frame_index].line
        key = key_of_frame[frame_index]
        if line and (not first_line[key] or line < first_line[key]):
            first_line[key] = line
    stats = []
    for key, (name, file) in enumerate(keys):
        if not total_samples[key]:
            continue  # frames of unselected threads are not listed
        line, is_definition = profile.function_line((name, file), first_line[key])
        stats.append(FunctionStat(
            name=name,
            file=file,
            line=line,
            self_samples=self_samples[key],
            total_samples=total_samples[key],
            self_percent=_percent(self_samples[key], sample_count),
            total_percent=_percent(total_samples[key], sample_count),
            line_is_definition=is_definition,
        ))
    stats.sort(key=lambda s: (-s.self_samples, -s.total_samples, s.name, s.file))
    return stats


def line_stats(
    profile: Profile, threads: Iterable[Thread] | None = None
) -> dict[tuple[str, int], LineStat]:
    """Self/total samples per (file, line); a line counts once per sample."""
    key_of_frame, keys = _intern_keys(profile.frames, lambda frame: (frame.file, frame.line))
    self_samples, total_samples, _, sample_count = _self_and_total(profile, threads, key_of_frame)
    return {
        (file, line): LineStat(
            file=file,
            line=line,
            self_samples=self_samples[key],
            total_samples=total_samples[key],
            self_percent=_percent(self_samples[key], sample_count),
            total_percent=_percent(total_samples[key], sample_count),
        )
        for key, (file, line) in enumerate(keys)
        if total_samples[key]
    }


def thread_stats(profile: Profile) -> list[dict[str, Any]]:
    """Name (as shown), OS thread id (None if unknown), process and sample count of every
    thread, in profile order."""
    return [
        {"name": thread.display_name, "tid": thread.tid, "process": thread.process,
         "samples": thread.sample_count}
        for thread in profile.threads
    ]


def estimated_duration_s(profile: Profile) -> float:
    """The profile's wall time; without start/end times, the busiest thread's samples."""
    if profile.duration_s > 0:
        return profile.duration_s
    busiest = max((thread.sample_count for thread in profile.threads), default=0)
    return busiest * profile.interval_s


def summarize(profile: Profile, top: int | None = None) -> dict[str, Any]:
    """The summary the report shows: totals, the ``top`` hot functions, threads, timing."""
    stats = function_stats(profile)
    hot = stats if top is None else stats[: max(top, 0)]
    return {
        "total_samples": profile.sample_count,
        "unique_functions": len(stats),
        "hot_functions": [stat.to_dict() for stat in hot],
        "threads": thread_stats(profile),
        "duration_s": estimated_duration_s(profile),
        "interval_s": profile.interval_s,
    }
