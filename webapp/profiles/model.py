"""The one Profile model: interned frames, interned stacks, per-thread sample runs.

Every importer builds a ``Profile`` and every exporter and statistic reads one;
nothing else in the app looks at a profiler's own file format.

Memory layout, chosen for million-sample profiles:

* ``frames``  - list of distinct :class:`Frame` (name, file, line), line-level as
  py-spy samples them;
* ``stacks``  - the distinct stacks, each once, as a :class:`StackTable` (flat
  arrays of frame indexes, root first); :meth:`Profile.call_tree` derives the
  stack table of frame + parent node (the Firefox Profiler's layout) from it,
  which every statistic and exporter reads;
* each :class:`Thread` keeps its samples in time order, run-length encoded:
  ``stack_ids[i]`` occurred ``counts[i]`` times in a row. Consecutive identical
  samples are merged by the importers, so a profile costs memory in proportion
  to how often the stack *changes*, not to how many samples were taken.

Every per-sample pass is a numpy operation over these arrays; Python code runs
once per distinct frame, stack or call-tree level, never once per sample.
Weights are integer sample counts; ``interval_s`` says how long one sample stands for.
``definition_lines`` maps a function (name, file) to the line it is defined on, when
something read its source (the uploaded script); function-level views use it, and
fall back to the smallest line sampled in the function for every other function.
"""

from __future__ import annotations

import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from webapp.profiles import stack_arrays
from webapp.profiles.kernels import stacks as stack_kernels


RUN_COUNT_MAX = 0xFFFFFFFF  # a Thread counts a run's samples in 32 bits


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
        return int(np.frombuffer(self.counts, dtype=np.uint32).sum(dtype=np.int64)) if self.counts else 0

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

    def extend_runs(self, stack_ids: np.ndarray, counts: np.ndarray) -> None:
        """Append runs given as arrays (``counts[i]`` samples of ``stack_ids[i]``), as
        :meth:`append` would one by one: neighbouring runs of one stack are merged, the
        first with the thread's last run too. OverflowError when a run is too long to count."""
        if not len(stack_ids):
            return
        starts = np.flatnonzero(np.concatenate(([True], stack_ids[1:] != stack_ids[:-1])))
        stack_ids, counts = stack_ids[starts], np.add.reduceat(counts.astype(np.uint64), starts)
        if self.stack_ids and self.stack_ids[-1] == stack_ids[0]:
            self.counts[-1] += int(counts[0])  # the array's 32 bits raise OverflowError themselves
            stack_ids, counts = stack_ids[1:], counts[1:]
        if len(counts) and counts.max() > RUN_COUNT_MAX:
            raise OverflowError("a run of one stack is too long to count")
        self.stack_ids.frombytes(stack_ids.astype(np.uint32).tobytes())
        self.counts.frombytes(counts.astype(np.uint32).tobytes())

    def runs(self) -> Iterator[tuple[int, int]]:
        """(stack id, count) pairs in time order."""
        return zip(self.stack_ids, self.counts)

    def stack_counts(self) -> Counter[int]:
        """Samples per distinct stack id, order forgotten."""
        if not self.stack_ids:
            return Counter()
        ids = np.frombuffer(self.stack_ids, dtype=np.uint32)
        weights = np.bincount(ids, weights=np.frombuffer(self.counts, dtype=np.uint32)).astype(np.int64)
        used = np.flatnonzero(weights)
        return Counter(dict(zip(used.tolist(), weights[used].tolist())))


class StackTable(Sequence):
    """The distinct stacks of a profile, each stored once, as two flat arrays.

    ``frames`` holds every stack's frame indexes back to back (root first) and
    ``ends[i]`` where stack ``i`` stops, so stack ``i`` is
    ``frames[ends[i - 1]:ends[i]]``. Nothing per stack is a Python object: a
    profile with 160,000 stacks of depth 42 costs 27 MB here instead of the
    ~250 MB of tuples of ints. Reading it as a sequence of tuples still works
    (``profile.stacks[i]``), for code that handles one stack at a time; bulk
    readers take :meth:`arrays` (numpy views, no copy).
    """

    __slots__ = ("frames", "ends")

    def __init__(self) -> None:
        self.frames = array("i")
        self.ends = array("q")

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        ends = self.ends
        if index < 0:
            index += len(ends)
        return tuple(self.frames[ends[index - 1] if index else 0:ends[index]])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StackTable) and self.ends == other.ends and self.frames == other.frames

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StackTable({list(self)!r})"

    def append(self, stack: Iterable[int]) -> None:
        self.frames.extend(stack)
        self.ends.append(len(self.frames))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(flat frames, starts, lengths) as numpy arrays; frames and ends are views."""
        frames = np.frombuffer(self.frames, dtype=np.int32) if self.frames else np.zeros(0, np.int32)
        ends = np.frombuffer(self.ends, dtype=np.int64) if self.ends else np.zeros(0, np.int64)
        starts = np.zeros(len(ends), dtype=np.int64)
        starts[1:] = ends[:-1]
        return frames, starts, ends - starts


@dataclass(slots=True)
class Profile:
    """A sampled profile of one program run (or one imported file)."""

    name: str = "profile"
    frames: list[Frame] = field(default_factory=list)
    stacks: StackTable = field(default_factory=StackTable)
    threads: list[Thread] = field(default_factory=list)
    interval_s: float = 0.01
    start_s: float = 0.0
    end_s: float = 0.0
    definition_lines: dict[tuple[str, str], int] = field(default_factory=dict)
    _frame_index: dict[Frame, int] = field(default_factory=dict, repr=False)
    # Interning: every table stack's hash (aligned with ``stacks``); a dict from hash to the
    # first id with it, filled from them only when one stack at a time is interned (bulk
    # interning looks hashes up with numpy); stacks whose hash an earlier stack took.
    _stack_hashes: array = field(default_factory=lambda: array("Q"), repr=False, compare=False)
    _stack_index: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    _stack_collisions: dict[tuple[int, ...], int] = field(default_factory=dict, repr=False, compare=False)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)  # caches, see _cached
    _derived_locks: dict = field(default_factory=dict, repr=False, compare=False)

    # -- building ---------------------------------------------------------------
    def intern_frame(self, frame: Frame) -> int:
        index = self._frame_index.get(frame)
        if index is None:
            index = self._frame_index[frame] = len(self.frames)
            self.frames.append(frame)
        return index

    def intern_stack(self, stack: Sequence[int]) -> int:
        """The id of ``stack`` (frame indexes, root first), added on first sight."""
        stack = tuple(stack)
        key = stack_arrays.stack_hash(stack)
        index = self._hash_index().get(key)
        if index is not None and self.stacks[index] == stack:
            return index
        return self._intern_colliding(stack, key)

    def _hash_index(self) -> dict[int, int]:
        """Hash -> first stack id with it, brought up to date with the table."""
        index = self._stack_index
        if len(index) + len(self._stack_collisions) < len(self.stacks):
            for stack_id, key in enumerate(self._stack_hashes.tolist()):
                index.setdefault(key, stack_id)
        return index

    def _intern_colliding(self, stack: tuple[int, ...], key: int) -> int:
        """Intern a stack whose hash is new, or taken by another stack (kept apart by value)."""
        index_of = self._hash_index()
        if key not in index_of:
            index = index_of[key] = len(self.stacks)
        else:
            index = self._stack_collisions.setdefault(stack, len(self.stacks))
            if index != len(self.stacks):
                return index
        self.stacks.append(stack)
        self._stack_hashes.append(key)
        return index

    def intern_stacks(self, frames: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Bulk :meth:`intern_stack`: stacks given back to back in ``frames`` (root first),
        ``lengths[i]`` frames each; their ids (int64), new stacks numbered in order of
        first appearance. Hashes every stack in one compiled pass, then works per distinct
        hash with numpy."""
        frames = np.ascontiguousarray(frames, dtype=np.int32)
        lengths = np.asarray(lengths, dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        hashes = stack_arrays.stack_hashes(frames, starts, lengths)
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        order = np.argsort(first)
        keys, rows = distinct[order], first[order]
        table = self.stacks
        found = self._ids_of_hashes(keys)
        new = found < 0
        new_ids = np.arange(len(table), len(table) + int(new.sum()), dtype=np.int64)
        found[new] = new_ids
        ids_of_distinct = np.empty(len(distinct), dtype=np.int64)
        ids_of_distinct[order] = found
        if len(new_ids):
            rows = rows[new]
            table.frames.frombytes(stack_kernels.gathered(frames, starts[rows], lengths[rows]))
            table.ends.frombytes(((table.ends[-1] if table.ends else 0) + np.cumsum(lengths[rows])).tobytes())
            self._stack_hashes.frombytes(keys[new].tobytes())
        ids = ids_of_distinct[inverse.ravel()]
        # A hash names a stack almost surely; check every one and redo the rare others.
        for row in np.flatnonzero(~self._rows_equal(frames, starts, lengths, ids)).tolist():
            stack = tuple(frames[starts[row]:starts[row] + lengths[row]].tolist())
            ids[row] = self._intern_colliding(stack, int(hashes[row]))
        return ids

    def _ids_of_hashes(self, keys: np.ndarray) -> np.ndarray:
        """The first table stack id with each hash of ``keys``, -1 where none has it."""
        table_hashes = np.frombuffer(self._stack_hashes, dtype=np.uint64) if self._stack_hashes else None
        if table_hashes is None or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        by_hash = np.argsort(table_hashes, kind="stable")  # equal hashes: the first id first
        sorted_hashes = table_hashes[by_hash]
        place = np.minimum(np.searchsorted(sorted_hashes, keys), len(sorted_hashes) - 1)
        return np.where(sorted_hashes[place] == keys, by_hash[place], -1)

    def _rows_equal(self, frames: np.ndarray, starts: np.ndarray, lengths: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Per row, is it the same stack as the table's stack ``ids[row]``?"""
        table_frames, table_starts, table_lengths = self.stacks.arrays()
        return stack_kernels.rows_equal(frames, starts.astype(np.int64), lengths, table_frames, table_starts,
                                        table_lengths, ids)

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
        weights = self.stack_weights(threads)
        used = np.flatnonzero(weights)
        return Counter(dict(zip(used.tolist(), weights[used].tolist())))

    def stack_weights(self, threads: Iterable[Thread] | None = None) -> np.ndarray:
        """Samples per stack id (an int64 array as long as the stack table) over the given
        threads (default: all): the one per-sample pass every statistic starts from."""
        total = np.zeros(len(self.stacks), dtype=np.int64)
        for thread in self.threads if threads is None else threads:
            if thread.stack_ids:
                ids = np.frombuffer(thread.stack_ids, dtype=np.uint32)
                total += np.bincount(ids, weights=np.frombuffer(thread.counts, dtype=np.uint32),
                                     minlength=len(total)).astype(np.int64)
        return total

    def frame_stack(self, stack_id: int) -> list[Frame]:
        return [self.frames[i] for i in self.stacks[stack_id]]

    def _cached(self, name: str, build: Callable[[], object]) -> object:
        """``build()``, kept until the profile changes (a profile is built, then only read).

        Downloads are written by several threads at once (see ``webapp.pipeline``): a thread
        that asks for what another is building waits for it rather than building it again."""
        state = (len(self.frames), len(self.stacks), len(self.threads),
                 sum(len(thread.stack_ids) for thread in self.threads), frozenset(self.definition_lines.items()))
        entry = self._derived.get(name)
        if entry is not None and entry[0] == state:
            return entry[1]
        with self._derived_locks.setdefault(name, threading.RLock()):  # setdefault: atomic
            entry = self._derived.get(name)
            if entry is None or entry[0] != state:
                entry = self._derived[name] = (state, build())
            return entry[1]

    def call_tree(self):
        """The call tree of this profile's stacks (see :mod:`.stack_tree`), built once."""
        from webapp.profiles.stack_tree import CallTree

        return self._cached("call_tree", lambda: CallTree.of_profile(self))

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
        Works on the stack table as a whole: ``frame_map`` runs once per frame.
        """
        result = self._empty_copy()
        new_frame_of = np.array(
            [-1 if (mapped := frame_map(frame)) is None else result.intern_frame(mapped) for frame in self.frames],
            dtype=np.int32,
        )
        flat, starts, lengths = self.stacks.arrays()
        new_flat = new_frame_of[flat] if len(flat) else flat
        if (new_flat < 0).any():
            kept_so_far = np.concatenate(([0], np.cumsum(new_flat >= 0)))
            lengths = kept_so_far[starts + lengths] - kept_so_far[starts]
            new_flat = new_flat[new_flat >= 0]
        new_stack_of = result.intern_stacks(new_flat, lengths)
        result._copy_threads(self, new_stack_of)
        return result

    def _copy_threads(self, source: Profile, new_stack_of: np.ndarray) -> None:
        """Every thread of ``source`` with its stack ids mapped (-1: samples dropped);
        neighbouring runs that became one stack are merged."""
        for thread in source.threads:
            copy = self.add_thread(thread.name, thread.process, thread.tid)
            if not thread.stack_ids:
                continue
            ids = new_stack_of[np.frombuffer(thread.stack_ids, dtype=np.uint32)]
            kept = ids >= 0
            copy.extend_runs(ids[kept], np.frombuffer(thread.counts, dtype=np.uint32)[kept])

    def function_level(self) -> Profile:
        """Frames collapsed to functions (name, file), each shown with its definition line
        when known, else the smallest line sampled in it (see :meth:`function_line`).
        Built once per profile: every exporter asks for it."""
        return self._cached("function_level", self._function_level)

    def _function_level(self) -> Profile:
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
        new_stack_of = np.full(len(self.stacks), -1, dtype=np.int64)
        for stack_id in range(len(self.stacks)):
            frames = rewrite(self.frame_stack(stack_id))
            if frames is not None:
                new_stack_of[stack_id] = result.intern_stack(tuple(result.intern_frame(f) for f in frames))
        result._copy_threads(self, new_stack_of)
        return result


class ProfileFormatError(ValueError):
    """A file could not be read as a profile; the message is meant for the user."""
