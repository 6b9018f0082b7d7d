"""Turning long sample sequences into runs with C-speed loops.

Every sample an importer reads as a Python object passes through
:func:`collect_runs` (large speedscope files do not: their byte scanner,
:mod:`webapp.profiles.kernels.samples`, counts runs itself), so
the per-sample work is done by ``map``/``compress``/``accumulate`` (C loops):
Python code runs once per *run* of identical samples and once per new
distinct key. Shared by the importers; nothing here knows a file format.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, islice, repeat
from operator import mul, ne, sub

import numpy as np

from webapp.profiles.model import Thread


class LengthMismatch(ValueError):
    """There were more samples than weights, or the other way round."""


@dataclass(slots=True)
class Runs:
    """Samples as runs: ``keys[ids[i]]`` occurred ``counts[i]`` samples in a row. ``ids`` and
    ``counts`` are uint32 and uint64 buffers (arrays or numpy arrays)."""

    keys: list = field(default_factory=list)
    ids: array = field(default_factory=lambda: array("I"))
    counts: array = field(default_factory=lambda: array("Q"))


def run_starts(items: Sequence) -> list[int]:
    """Indexes where a new run of equal items begins (always 0 when non-empty)."""
    if not items:
        return []
    return [0, *compress(range(1, len(items)), map(ne, items[1:], items))]


def collect_runs(chunks: Iterable[Sequence[Hashable]], counts: int | Iterable[int], expected: int) -> Runs:
    """Runs of identical consecutive keys; distinct keys numbered in first-seen order.

    ``chunks`` are consecutive slices of the sample sequence; ``counts`` is one
    count for every sample (py-spy: one interval each) or one per sample.
    Raises LengthMismatch unless there are exactly ``expected`` samples and,
    when given per sample, as many counts.
    """
    key_ids: dict = {}
    runs = Runs()
    per_sample = None if isinstance(counts, int) else iter(counts)
    seen = 0
    for chunk in chunks:
        size = len(chunk)
        seen += size
        starts = run_starts(chunk)
        ends = [*starts[1:], size]
        if per_sample is None:
            lengths = map(sub, ends, starts)
            run_counts = lengths if counts == 1 else map(mul, lengths, repeat(counts))
        else:
            totals = [0, *accumulate(islice(per_sample, size))]
            if len(totals) != size + 1:
                raise LengthMismatch
            run_counts = map(sub, map(totals.__getitem__, ends), map(totals.__getitem__, starts))
        run_keys = list(map(chunk.__getitem__, starts))
        fresh = [key for key in dict.fromkeys(run_keys) if key not in key_ids]
        key_ids.update(zip(fresh, range(len(key_ids), len(key_ids) + len(fresh))))
        runs.ids.extend(map(key_ids.__getitem__, run_keys))
        runs.counts.extend(run_counts)
    if seen != expected or (per_sample is not None and next(per_sample, None) is not None):
        raise LengthMismatch
    runs.keys = list(key_ids)
    return runs


def fill_thread(thread: Thread, runs: Runs, stack_of_key: Sequence[int]) -> None:
    """Append the runs to ``thread`` as stack ids, as ``Thread.append`` would.

    Runs of zero samples are dropped and neighbouring runs whose keys became
    the same stack (e.g. after synthetic frames were stripped) are merged.
    Raises OverflowError when one run exceeds the model's counter.
    """
    if not len(runs.ids):
        return
    counts = np.frombuffer(runs.counts, dtype=np.uint64)
    ids = np.asarray(stack_of_key, dtype=np.int64)[np.frombuffer(runs.ids, dtype=np.uint32)]
    kept = counts > 0  # runs with samples
    thread.extend_runs(ids[kept], counts[kept])
