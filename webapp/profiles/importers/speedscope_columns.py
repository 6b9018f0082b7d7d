"""The sample and weight columns of a speedscope file, read two ways.

:class:`ParsedColumns` reads them from a document ``orjson.loads`` built;
:class:`ScannedColumns` from the raw bytes located by :mod:`.speedscope_scan`.
Both hand the importer the same things - runs of samples with the distinct
stacks they name, weights as a :class:`WeightColumn` - so one code path builds
the Profile.
The scanned side raises ``FastPathUnsuitable`` (never a user error) whenever
the bytes are not laid out as it expects: the generic side then decides.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from webapp.profiles.importers.runs import LengthMismatch, Runs, collect_runs
from webapp.profiles.importers.speedscope_scan import (
    ArraySpan,
    FastPathUnsuitable,
    ScannedFile,
    FlatStacks,
    decode_weight,
    raw_weights,
)
from webapp.profiles.kernels import samples
from webapp.profiles.model import ProfileFormatError

MAX_SAMPLES_PER_RUN = 2**32 - 1  # Thread.counts is an array("I")
# Samples turned into keys at a time by the generic reader (bounds its extra memory).
PARSED_CHUNK_SAMPLES = 65_536
# Samples arrays (one per thread) the scanner reads at once, in the background: its loop
# releases the GIL, so the arrays are read while the importer interns the stacks of those done.
# One core is left to the interning (on 2 cores, 2 scanning threads measured 10 % slower than 1).
SCAN_THREADS = max(1, min(4, (os.cpu_count() or 1) - 1))


@dataclass(slots=True)
class WeightColumn:
    """The weights of one profile: one shared value (py-spy) or one per sample."""

    count: int
    uniform: float | None
    values: Sequence[float]
    distinct: set[float]

    @property
    def distinct_positive(self) -> list[float]:
        """The different weights above zero (the sampling interval is the smallest)."""
        return [value for value in self.distinct if value > 0]

    def counts(self, scale: float) -> int | Iterator[int]:
        """Samples per weight, ``round(weight * scale)``: one int when all weights are equal."""
        table = {value: _sample_count(value * scale) for value in self.distinct}
        if self.uniform is not None:
            return table[self.uniform]
        return map(table.__getitem__, self.values)


def _sample_count(samples: float) -> int:
    """Whole samples a weight stands for; a positive weight is never dropped."""
    if samples <= 0:
        return 0
    if samples > MAX_SAMPLES_PER_RUN:
        raise ProfileFormatError(
            "A sample weight in this speedscope file is too large to be a sampled CPU profile. "
            "Check that the file holds CPU samples, not memory or event counts."
        )
    return max(round(samples), 1)


def _damaged(position: int, what: str) -> ProfileFormatError:
    return ProfileFormatError(
        f"Profile {position + 1} of this speedscope file {what}, so the file is damaged. "
        "Export it again."
    )


class ParsedColumns:
    """Columns of a fully parsed document (small or unusual files)."""

    def check_placeholders(self, document: dict) -> None:
        """Nothing to check: the arrays are real."""

    def start(self, sampled: list[dict]) -> None:
        """Nothing to prepare: the arrays are parsed already."""

    def weights(self, item: dict, position: int) -> WeightColumn:
        """The weights of profile ``item``, checked to be numbers."""
        values = item.get("weights")
        if not isinstance(values, list) or not all(type(v) in (int, float) for v in values):
            raise _damaged(position, "has weights that are not a list of numbers")
        distinct = set(values)
        return WeightColumn(len(values), values[0] if len(distinct) == 1 else None, values, distinct)

    def runs(self, item: dict, position: int, weights: WeightColumn, scale: float) -> tuple[Runs, list[Sequence[int]]]:
        """The samples of profile ``item`` as runs, and the distinct stacks they name.
        LengthMismatch when samples and weights differ in number."""
        runs = collect_runs(self._stack_chunks(item, position), weights.counts(scale), weights.count)
        return runs, self._decode(runs.keys, position)

    def _stack_chunks(self, item: dict, position: int) -> Iterator[list[Hashable]]:
        """The samples of profile ``item`` as tuples, a slice at a time."""
        samples = item.get("samples")
        if not isinstance(samples, list) or not all(type(s) is list for s in samples):
            raise _damaged(position, "has samples that are not lists of frame numbers")
        for start in range(0, len(samples), PARSED_CHUNK_SAMPLES):
            yield list(map(tuple, samples[start : start + PARSED_CHUNK_SAMPLES]))

    def length_mismatch(self, position: int) -> Exception:
        """What to raise when samples and weights differ in number: a user error."""
        return _damaged(position, "has a different number of samples and weights")

    def _decode(self, keys: list[tuple], position: int) -> list[Sequence[int]]:
        """The stacks as frame-number sequences; a user error if one holds anything else."""
        for key in keys:
            if not all(type(index) is int for index in key):
                raise _damaged(position, "has a sample holding something other than frame numbers")
        return keys


class ScannedColumns:
    """Columns read straight from the bytes; the document is the scanner's skeleton."""

    def __init__(self, data: bytes, scanned: ScannedFile):
        self._data = data
        self._scanned = scanned
        self._pool: ThreadPoolExecutor | None = None
        self._scans: dict[int, Future] = {}

    def __enter__(self) -> ScannedColumns:
        return self

    def __exit__(self, *exc_info) -> None:
        """Scans not asked for (the import failed first) are dropped; running ones end."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self, sampled: list[dict]) -> None:
        """Start scanning the samples arrays of these profiles, SCAN_THREADS at a time."""
        self._pool = ThreadPoolExecutor(max_workers=SCAN_THREADS, thread_name_prefix="scan")
        for item in sampled:
            index = item.get("samples")
            if type(index) is int and 0 <= index < len(self._scanned.samples) and index not in self._scans:
                span = self._scanned.samples[index]
                if not span.empty:
                    self._scans[index] = self._pool.submit(samples.scan_samples, self._data, span.start, span.end)

    def check_placeholders(self, document: dict) -> None:
        """Every array the scanner cut out must come back exactly once, in order."""
        refs: dict[str, list] = {"samples": [], "weights": []}
        for item in document["profiles"]:
            for key, found in refs.items():
                if isinstance(item, dict) and key in item:
                    found.append(item[key])
        if refs["samples"] != list(range(len(self._scanned.samples))) or refs["weights"] != list(
            range(len(self._scanned.weights))
        ):
            raise FastPathUnsuitable("arrays found by the scanner do not match the profiles")

    def weights(self, item: dict, position: int) -> WeightColumn:
        """The weights of profile ``item``; one decode when py-spy made them all equal."""
        count, texts = raw_weights(self._data, self._span(item, "weights", self._scanned.weights))
        if isinstance(texts, bytes):
            value = decode_weight(texts)
            return WeightColumn(count, value, (), {value})
        table = {text: decode_weight(text) for text in set(texts)}
        return WeightColumn(count, None, list(map(table.__getitem__, texts)), set(table.values()))

    def runs(self, item: dict, position: int, weights: WeightColumn, scale: float) -> tuple[Runs, FlatStacks]:
        """The samples of profile ``item`` as runs and the distinct stacks they name, read
        by the compiled scanner; LengthMismatch when samples and weights differ in number."""
        span = self._span(item, "samples", self._scanned.samples)
        if span.empty:
            frames, lengths = np.zeros(0, np.int64), np.zeros(0, np.int64)
            ids, firsts, count = np.zeros(0, np.uint32), np.zeros(0, np.int64), 0
        else:
            scan = self._scans.pop(item["samples"], None)
            try:
                frames, lengths, ids, firsts, count = (
                    scan.result() if scan is not None else samples.scan_samples(self._data, span.start, span.end))
            except samples.NotCompact as error:
                raise FastPathUnsuitable(str(error)) from None
        if count != weights.count:
            raise LengthMismatch
        counts = weights.counts(scale)
        if isinstance(counts, int):
            run_counts = np.diff(np.append(firsts, count)).astype(np.uint64) * np.uint64(counts)
        else:
            per_sample = np.fromiter(counts, dtype=np.uint64, count=count)
            run_counts = np.add.reduceat(per_sample, firsts) if len(firsts) else np.zeros(0, np.uint64)
        return Runs([], ids, run_counts), FlatStacks(frames, lengths)

    def length_mismatch(self, position: int) -> Exception:
        """What to raise when samples and weights differ in number: let the parser judge."""
        return FastPathUnsuitable("sample and weight counts differ; let the parser judge")

    @staticmethod
    def _span(item: dict, key: str, spans: list[ArraySpan]) -> ArraySpan:
        """The span a placeholder points to; a profile without one is the parser's to judge."""
        index = item.get(key)
        if type(index) is not int:
            raise FastPathUnsuitable(f"a profile has no {key} array")
        return spans[index]
