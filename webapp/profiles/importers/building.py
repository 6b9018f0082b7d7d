"""Building a Profile from weighted stacks, shared by every importer but speedscope's.

Formats weigh their stacks differently: collapsed files and pprof carry counts
(sometimes with decimals), traces carry durations in micro- or nanoseconds,
pyinstrument and cProfile carry seconds. The model counts whole samples of
``interval_s`` seconds each, so :class:`ProfileBuilder` keeps the exact weights
while a file is read and picks, at the end, a unit fine enough for the smallest
weight and coarse enough that no run overflows the model's 32-bit counters.

Every check a format needs on its weights (finite, not negative) lives here,
so each importer reports a bad weight with the same sentence.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from webapp.profiles.model import Frame, Profile, ProfileFormatError

MAX_RUN_COUNT = 2**32 - 1  # Thread.counts is an array("I")
MAX_COUNT_DECIMALS = 3  # counts like 0.25 are kept exact; finer ones are cut like durations
# Time-weighted profiles are cut into about this many model samples: a weight
# under a millionth of the whole is below anything a flamegraph can show.
RESOLUTION = 100_000
# Deepest stack accepted; deeper ones are bombs or cycles, not programs.
MAX_STACK_DEPTH = 5_000  # Python stops at 1,000 by default; deep JS recursion reaches a few thousand
# Frames in all distinct stacks together (the sum of their depths). A real profile of
# 160,000 distinct stacks 42 deep has 6.7 million; far more means a file built to make
# the import crawl (a tree of long chains), refused before it takes minutes.
MAX_STACK_FRAMES = 20_000_000


class FormatProblem:
    """Raises ProfileFormatError sentences that start by naming the format."""

    def __init__(self, format_label: str):
        self.format_label = format_label

    def error(self, problem: str, advice: str = "Check that it is the whole file, or export it again.") -> ProfileFormatError:
        return ProfileFormatError(f"This {self.format_label} file {problem}. {advice}")


@dataclass(slots=True)
class _ThreadRuns:
    """A thread's stacks in time order as runs, with their exact (float) weights."""

    name: str
    process: str
    tid: int | None
    stack_ids: array = field(default_factory=lambda: array("I"))
    weights: array = field(default_factory=lambda: array("d"))


class ProfileBuilder(FormatProblem):
    """Collects (thread, stack, weight) and turns them into a :class:`Profile`."""

    def __init__(self, format_label: str, name: str):
        super().__init__(format_label)
        self.profile = Profile(name=name)
        self._threads: dict[object, _ThreadRuns] = {}
        self._frame_ids: dict[object, int] = {}
        self._stack_frames = 0
        self._stack_ids: dict[tuple[int, ...], int] = {}

    # -- frames and stacks -----------------------------------------------------
    def frame(self, name: str, file: str = "", line: int = 0, key: object = None) -> int:
        """The profile's index of this frame; ``key`` caches a format's own frame id."""
        cache_key = (name, file, line) if key is None else key
        index = self._frame_ids.get(cache_key)
        if index is None:
            if not isinstance(name, str) or not isinstance(file, str):
                raise self.error("has a frame whose name or file is not text")
            line = line if type(line) is int and 0 < line < 2**31 else 0
            index = self._frame_ids[cache_key] = self.profile.intern_frame(Frame(name, file, line))
        return index

    def cached_frame(self, key: object) -> int | None:
        """The frame id cached under a format's own ``key``, or None: lets an importer skip
        parsing a frame's text when it has seen that text before."""
        return self._frame_ids.get(key)

    def stack(self, frame_ids: tuple[int, ...], *, charged: bool = False) -> int:
        """The profile's index of this stack (root first); only new stacks count against the
        limits (``charged``: the caller counted it already, while building it)."""
        index = self._stack_ids.get(frame_ids)
        if index is None:
            if not charged:
                self.charge(len(frame_ids))
            index = self._stack_ids[frame_ids] = self.profile.intern_stack(frame_ids)
        return index

    def charge(self, depth: int) -> None:
        """Count a stack of ``depth`` frames against the limits, before or while building it."""
        if depth > MAX_STACK_DEPTH:
            raise self.error(f"has a stack deeper than {MAX_STACK_DEPTH:,} frames",
                             "It is probably damaged or recursive without end.")
        self._stack_frames += depth
        if self._stack_frames > MAX_STACK_FRAMES:
            raise self.error(f"has more than {MAX_STACK_FRAMES:,} frames in its distinct stacks together, "
                             "far more than any real profile", "It is probably built to overload the import.")

    # -- samples ---------------------------------------------------------------
    def thread(self, key: object, name: str = "", process: str = "", tid: int | None = None) -> _ThreadRuns:
        """The thread ``key`` (created at first use, in order of first use)."""
        runs = self._threads.get(key)
        if runs is None:
            runs = self._threads[key] = _ThreadRuns(name or f"Thread {len(self._threads) + 1}", process, tid)
        return runs

    def add(self, thread: _ThreadRuns, stack_id: int, weight: float) -> None:
        """``weight`` more of ``stack_id`` in ``thread`` (merged with the previous run)."""
        if type(weight) not in (float, int) or not 0 <= weight < math.inf:  # the common case costs one test
            weight = self.check_weight(weight)
        if not weight:
            return
        if thread.stack_ids and thread.stack_ids[-1] == stack_id:
            thread.weights[-1] += weight
        else:
            thread.stack_ids.append(stack_id)
            thread.weights.append(weight)

    def check_weight(self, value: object) -> float:
        """A weight as a float; a format error unless it is a finite number >= 0."""
        if type(value) is bool or not isinstance(value, (int, float)):
            raise self.error(f"has a weight that is not a number ({str(value)[:40]!r})")
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if math.isnan(value) or math.isinf(value):
            raise self.error(f"has a weight that is not a finite number ({value})")
        if value < 0:
            raise self.error(f"has a negative weight ({value:g})")
        return value

    # -- the end -----------------------------------------------------------------
    def build(self, unit_s: float, *, integral: bool = False) -> Profile:
        """The Profile; ``unit_s`` is how many seconds a weight of 1 stands for.

        ``integral``: the weights are sample counts, kept as they are whenever they
        are whole numbers that fit."""
        profile = self.profile
        if not math.isfinite(unit_s) or unit_s <= 0:
            raise self.error("gives no usable time unit or sampling interval")
        quantum = self._quantum(integral)
        profile.interval_s = float(f"{unit_s * quantum:.12g}")
        longest = 0
        for runs in self._threads.values():
            thread = profile.add_thread(runs.name, runs.process, runs.tid)
            total = 0
            for stack_id, weight in zip(runs.stack_ids, runs.weights):
                count = round(weight / quantum)
                if count:
                    try:
                        thread.append(stack_id, count)
                    except OverflowError:
                        raise self.error("repeats one stack for longer than flamedeck can count") from None
                    total += count
            longest = max(longest, total)
        profile.start_s = 0.0
        profile.end_s = longest * profile.interval_s
        return profile

    def _quantum(self, integral: bool) -> float:
        """Weight per model sample: 1 for whole counts, else the power of ten that
        divides the whole profile into about RESOLUTION parts (finer is noise), and
        coarse enough that no run overflows the model's counter."""
        weights = [w for runs in self._threads.values() for w in runs.weights]
        if not weights:
            return 1.0
        largest = max(weights)
        if integral:  # counts, maybe with a few decimals (0.25): keep them exact when they fit
            for decimals in range(MAX_COUNT_DECIMALS + 1):
                scale = 10**decimals
                if largest * scale <= MAX_RUN_COUNT and all(abs(w * scale - round(w * scale)) < 1e-6 for w in weights):
                    return float(f"1e-{decimals}")
        wanted = max(sum(weights) / RESOLUTION, largest / MAX_RUN_COUNT, 1e-300)
        exponent = math.floor(math.log10(wanted))
        while largest / float(f"1e{exponent}") > MAX_RUN_COUNT:
            exponent += 1
        return float(f"1e{exponent}")


def split_located_name(text: str) -> tuple[str, str, int]:
    """``"func (file.py:12)"`` -> ("func", "file.py", 12); other text -> (text, "", 0).

    The convention py-spy, VizTracer, flamegraph.pl's Python collapsers and
    Firefox's gecko ``location`` strings use for a frame with its place.
    """
    if text.endswith(")") and " (" in text:
        name, _, place = text[:-1].rpartition(" (")
        file, colon, line = place.rpartition(":")
        if colon and line.isascii() and line.isdigit() and file and name:
            return name, file, int(line)
        if place and name and not colon:
            return name, place, 0
    return text, "", 0
