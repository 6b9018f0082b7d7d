"""How much the samples of one run vary along it, beyond independent draws: design effects.

The comparison (``compare.py``) treats a function's self samples as binomial draws; this
module measures how far a run departs from that. Each thread's samples, in time order, are
cut into batches (up to MAX_BATCHES, of at least MIN_BATCH_SAMPLES samples); batch b is the
b-th stretch of every thread. A function's design effect is the variance of its self share
estimated from the batch means divided by the binomial variance p(1-p)/n, at least 1 (Kish's
design effect, by the batch-means method for correlated series); the run then counts as n/d
independent samples for that function. Since that variance is itself estimated from B
batches, the comparison widens its 95 % quantile from the normal's 1.96 to Student's t with
B - 1 degrees of freedom. Computed when a report is made and kept in its summary
(``SUMMARY_KEY``), so that comparing two reports needs no profile file. A run too short for
MIN_BATCHES batches gets no correction (the plain binomial test).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from webapp.profiles.model import Profile

MAX_BATCHES = 20
MIN_BATCHES = 5
MIN_BATCH_SAMPLES = 25  # measured: 10 left 3 % false alarms on a deterministic script, 25 left 0.9 %
SUMMARY_KEY = "design_effects"


def batch_self_counts(profile: Profile, batches: int) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Samples per batch, and self samples per batch and function: each thread's samples, in
    time order, cut into ``batches`` consecutive stretches of (nearly) equal size; batch b
    is the b-th stretch of every thread (sample s of a thread of n samples is in the batch b
    with n*b//batches <= s < n*(b+1)//batches).

    Returns (sizes, counts, keys): ``counts[b, k]`` is the self samples of function
    ``keys[k]`` in batch b. Works on runs, with numpy: a run that crosses a batch's end is
    cut there, and each piece counts for its batch."""
    leaf_key, keys = _leaf_function_keys(profile)
    sizes = np.zeros(batches, dtype=np.int64)
    counts = np.zeros(batches * len(keys), dtype=np.int64)
    for thread in profile.threads:
        if not thread.stack_ids:
            continue
        run_counts = np.frombuffer(thread.counts, dtype=np.uint32).astype(np.int64)
        run_ends = np.cumsum(run_counts)
        whole = int(run_ends[-1])
        if not whole:
            continue
        inner_ends = whole * np.arange(1, batches, dtype=np.int64) // batches  # where batches 0..B-2 end
        # Pieces start wherever a run or a batch starts; each lies in one run and one batch.
        piece_starts = np.sort(np.concatenate((run_ends - run_counts, inner_ends)))  # both sorted already
        piece_starts = piece_starts[np.append(True, piece_starts[1:] != piece_starts[:-1])]
        piece_sizes = np.diff(np.append(piece_starts, whole))
        run_of_piece = np.searchsorted(run_ends, piece_starts, side="right")
        batch_of_piece = np.searchsorted(inner_ends, piece_starts, side="right")
        sizes += np.bincount(batch_of_piece, weights=piece_sizes, minlength=batches).astype(np.int64)
        key = leaf_key[np.frombuffer(thread.stack_ids, dtype=np.uint32)[run_of_piece]]
        has_key = key >= 0
        counts += np.bincount(batch_of_piece[has_key] * len(keys) + key[has_key], weights=piece_sizes[has_key],
                              minlength=len(counts)).astype(np.int64)
    return sizes, counts.reshape(batches, len(keys)), keys


def _leaf_function_keys(profile: Profile) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Per stack id, the number of its innermost frame's function (-1: empty stack); the functions."""
    ids: dict[tuple[str, str], int] = {}
    key_of_frame = np.array([ids.setdefault(frame.function_key, len(ids)) for frame in profile.frames] + [-1],
                            dtype=np.int64)
    frames, starts, lengths = profile.stacks.arrays()
    leaf_frames = np.where(lengths > 0, frames[np.maximum(starts + lengths - 1, 0)] if len(frames) else -1, -1)
    return key_of_frame[leaf_frames], list(ids)


def design_effects(profile: Profile, self_samples: dict[tuple[str, str], int]) -> dict[tuple[str, str] | None, float]:
    """How much more a function's self share varies along the run than independent samples
    would make it vary (Kish's design effect, from batch means; at least 1)."""
    n = profile.sample_count
    batches = batch_count(n)
    if not batches:
        return {}
    sizes, counts, keys = batch_self_counts(profile, batches)
    column_of = {key: column for column, key in enumerate(keys)}
    wanted = [(key, x / n) for key, x in self_samples.items() if 0 < x < n]  # else p(1-p) is 0: no estimate
    if not wanted:
        return {}
    p = np.array([share for _, share in wanted])
    # A function with no self samples in this profile's stacks has a column of zeros.
    columns = np.column_stack((counts, np.zeros(batches, dtype=np.int64)))
    observed_counts = columns[:, [column_of.get(key, len(keys)) for key, _ in wanted]]
    filled = sizes > 0
    batch_share = observed_counts[filled] / sizes[filled, None]
    spread = (((sizes[filled, None] / n) ** 2) * (batch_share - p) ** 2).sum(axis=0)
    observed = spread * batches / (batches - 1)
    effects = dict(zip([key for key, _ in wanted], np.maximum(1.0, observed / (p * (1 - p) / n)).tolist()))
    # One function's estimate rests on few batches and is itself noisy; the run's mean
    # is steadier. Never less than the mean: underestimating the spread is what makes
    # false alarms. The None key carries it for functions absent from this run.
    pooled = sum(effects.values()) / len(effects)
    effects = {key: max(effect, pooled) for key, effect in effects.items()}
    effects[None] = pooled
    return effects


def batch_count(sample_count: int) -> int:
    """How many batches a run of this many samples is cut into; 0 when too few for any estimate."""
    batches = min(MAX_BATCHES, sample_count // MIN_BATCH_SAMPLES)
    return batches if batches >= MIN_BATCHES else 0


def summary_entry(profile: Profile, hot_functions: list[dict[str, Any]]) -> dict[str, Any]:
    """What a report's summary keeps: the batches, the run's mean design effect and each function's."""
    effects = design_effects(profile, {(row["name"], row["file"]): row["self_samples"] for row in hot_functions})
    return {"batches": batch_count(profile.sample_count), "mean": effects.pop(None, 1.0),
            "functions": [[name, file, round(effect, 4)] for (name, file), effect in effects.items()]}


def effects_from_summary(entry: dict[str, Any]) -> dict[tuple[str, str] | None, float]:
    """The design effects a summary keeps, as :func:`design_effects` returns them."""
    effects: dict[tuple[str, str] | None, float] = {(name, file): effect for name, file, effect in entry["functions"]}
    effects[None] = entry["mean"]
    return effects
