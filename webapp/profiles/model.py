"""The one Profile model: interned frames, interned stacks, per-thread sample runs.

Every importer builds a ``Profile`` and every exporter and statistic reads one;
nothing else in the app looks at a profiler's own file format.

Memory layout, chosen for million-sample profiles:

* ``frames``  - list of distinct :class:`Frame` (name, file, line), line-level as
  py-spy samples them;
* ``stacks``  - list of distinct stacks, each a tuple of frame indexes, root first;
* each :class:`Thread` keeps its samples in time order, run-length encoded:
  ``stack_ids[i]`` occurred ``counts[i]`` times in a row. Consecutive identical
  samples are merged by the importers, so a profile costs memory in proportion
  to how often the stack *changes*, not to how many samples were taken.

Weights are integer sample counts; ``interval_s`` says how long one sample stands for.
``definition_lines`` maps a function (name, file) to the line it is defined on, when
something read its source (the uploaded script); function-level views use it, and
fall back to the smallest line sampled in the function for every other function.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Frame:
    """One code location. ``line`` is 0 when the producer did not know it."""

    name: str
    file: str = ""
    line: int = 0

    @property
    def function_key(self) -> tuple[str, str]:
        """Function identity used by tables and the default flamegraph."""
        return (self.name, self.file)


@dataclass(slots=True)
class Thread:
    """The samples of one thread, in time order, as runs of identical stacks.

    ``name`` is the thread's own name exactly as the profiler gave it ("" when it
    had none: py-spy then writes ``Thread 4243 ""``), ``tid`` the OS thread id it
    reported (None when the producer gave none); :attr:`display_name` is what to show.
    """

    name: str
    process: str = ""  # e.g. "pid 4242" when subprocesses were profiled; "" otherwise
    tid: int | None = None
    stack_ids: array = field(default_factory=lambda: array("I"))
    counts: array = field(default_factory=lambda: array("I"))

    @property
    def sample_count(self) -> int:
        return sum(self.counts)

    @property
    def display_name(self) -> str:
        """The name, or "Thread <tid>" for a thread that had none (as py-spy's viewers do)."""
        if self.name or self.tid is None:
            return self.name
        return f"Thread {self.tid}"

    @property
    def label(self) -> str:
        return f"{self.process} {self.display_name}".strip()

    def append(self, stack_id: int, count: int = 1) -> None:
        """Add ``count`` samples of ``stack_id``, merging with the previous run."""
        if self.stack_ids and self.stack_ids[-1] == stack_id:
            self.counts[-1] += count
        else:
            self.stack_ids.append(stack_id)
            self.counts.append(count)

    def runs(self) -> Iterator[tuple[int, int]]:
        """(stack id, count) pairs in time order."""
        return zip(self.stack_ids, self.counts)

    def stack_counts(self) -> Counter[int]:
        """Samples per distinct stack id, order forgotten."""
        totals: Counter[int] = Counter()
        for stack_id, count in zip(self.stack_ids, self.counts):
            totals[stack_id] += count
        return totals


@dataclass(slots=True)
class Profile:
    """A sampled profile of one program run (or one imported file)."""

    name: str = "profile"
    frames: list[Frame] = field(default_factory=list)
    stacks: list[tuple[int, ...]] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    interval_s: float = 0.01
    start_s: float = 0.0
    end_s: float = 0.0
    definition_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    _frame_index: dict[Frame, int] = field(default_factory=dict, repr=False)
    _stack_index: dict[tuple[int, ...], int] = field(default_factory=dict, repr=False)

    # -- building ---------------------------------------------------------------
    def intern_frame(self, frame: Frame) -> int:
        index = self._frame_index.get(frame)
        if index is None:
            index = self._frame_index[frame] = len(self.frames)
            self.frames.append(frame)
        return index

    def intern_stack(self, stack: tuple[int, ...]) -> int:
        index = self._stack_index.get(stack)
        if index is None:
            index = self._stack_index[stack] = len(self.stacks)
            self.stacks.append(stack)
        return index

    def add_thread(self, name: str, process: str = "", tid: int | None = None) -> Thread:
        thread = Thread(name=name, process=process, tid=tid)
        self.threads.append(thread)
        return thread

    # -- reading ----------------------------------------------------------------
    @property
    def sample_count(self) -> int:
        return sum(thread.sample_count for thread in self.threads)

    @property
    def duration_s(self) -> float:
        return max(self.end_s - self.start_s, 0.0)

    def stack_counts(self, threads: Iterable[Thread] | None = None) -> Counter[int]:
        """Samples per distinct stack id over the given threads (default: all)."""
        totals: Counter[int] = Counter()
        for thread in self.threads if threads is None else threads:
            totals.update(thread.stack_counts())
        return totals

    def frame_stack(self, stack_id: int) -> list[Frame]:
        return [self.frames[i] for i in self.stacks[stack_id]]

    # -- deriving ---------------------------------------------------------------
    def _empty_copy(self) -> Profile:
        """A profile with this one's name, timing and definition lines, and nothing else."""
        return Profile(
            name=self.name,
            interval_s=self.interval_s,
            start_s=self.start_s,
            end_s=self.end_s,
            definition_lines=dict(self.definition_lines),
        )

    def function_line(self, key: tuple[str, str], first_sampled: int) -> tuple[int, bool]:
        """(line to show for function ``key``, whether it is its definition line).

        The definition line when it is known, else ``first_sampled`` (the smallest line
        sampled in the function: the closest to its definition that samples can tell)."""
        defined = self.definition_lines.get(key)
        return (defined, True) if defined else (first_sampled, False)

    def mapped(self, frame_map: Callable[[Frame], Frame | None]) -> Profile:
        """A new profile whose frames are ``frame_map(frame)``; ``None`` drops a frame.

        Used to go from line-level to function-level frames, and to strip frames
        that are not the user's (the runner's own, py-spy's synthetic process
        frames). Stacks that become identical are merged; runs stay in time order.
        """
        result = self._empty_copy()
        new_frame_of = []
        for frame in self.frames:
            mapped = frame_map(frame)
            new_frame_of.append(-1 if mapped is None else result.intern_frame(mapped))
        new_stack_of = [
            result.intern_stack(tuple(f for f in (new_frame_of[i] for i in stack) if f >= 0))
            for stack in self.stacks
        ]
        for thread in self.threads:
            copy = result.add_thread(thread.name, thread.process, thread.tid)
            for stack_id, count in thread.runs():
                copy.append(new_stack_of[stack_id], count)
        return result

    def function_level(self) -> Profile:
        """Frames collapsed to functions (name, file), each shown with its definition line
        when known, else the smallest line sampled in it (see :meth:`function_line`)."""
        first_line: dict[tuple[str, str], int] = {}
        for frame in self.frames:
            key = frame.function_key
            if frame.line and (key not in first_line or frame.line < first_line[key]):
                first_line[key] = frame.line
        line_of = {key: self.function_line(key, first_line.get(key, 0))[0]
                   for key in {frame.function_key for frame in self.frames}}
        return self.mapped(lambda f: Frame(f.name, f.file, line_of[f.function_key]))

    def restacked(self, rewrite: Callable[[list[Frame]], list[Frame] | None]) -> Profile:
        """A new profile whose stacks are ``rewrite(frames of stack)``; ``None`` drops
        those samples. Used to cut the runner's own frames off the root of each stack,
        which depends on a frame's position, not only on the frame."""
        result = self._empty_copy()
        new_stack_of: list[int | None] = []
        for stack_id in range(len(self.stacks)):
            frames = rewrite(self.frame_stack(stack_id))
            new_stack_of.append(
                None if frames is None else result.intern_stack(tuple(result.intern_frame(f) for f in frames))
            )
        for thread in self.threads:
            copy = result.add_thread(thread.name, thread.process, thread.tid)
            for stack_id, count in thread.runs():
                new_id = new_stack_of[stack_id]
                if new_id is not None:
                    copy.append(new_id, count)
        return result


class ProfileFormatError(ValueError):
    """A file could not be read as a profile; the message is meant for the user."""
