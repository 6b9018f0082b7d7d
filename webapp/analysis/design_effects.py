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

from collections import Counter
from typing import Any

from webapp.profiles.model import Profile

MAX_BATCHES = 20
MIN_BATCHES = 5
MIN_BATCH_SAMPLES = 25  # measured: 10 left 3 % false alarms on a deterministic script, 25 left 0.9 %
SUMMARY_KEY = "design_effects"


def batch_self_counts(profile: Profile, batches: int) -> tuple[list[int], list[Counter]]:
    """Samples per batch and self samples per function per batch: each thread's samples, in
    time order, cut into ``batches`` consecutive stretches of (nearly) equal size; batch b
    is the b-th stretch of every thread."""
    leaf_key = [profile.frames[stack[-1]].function_key if stack else None for stack in profile.stacks]
    sizes = [0] * batches
    counts: list[Counter] = [Counter() for _ in range(batches)]
    for thread in profile.threads:
        whole = thread.sample_count
        if not whole:
            continue
        position, batch = 0, 0
        end = whole // batches if batches > 1 else whole
        for stack_id, count in thread.runs():
            while count:
                taken = min(count, end - position)
                if taken:
                    sizes[batch] += taken
                    key = leaf_key[stack_id]
                    if key is not None:
                        counts[batch][key] += taken
                position += taken
                count -= taken
                if position == end and batch < batches - 1:
                    batch += 1
                    end = whole * (batch + 1) // batches
    return sizes, counts


def design_effects(profile: Profile, self_samples: dict[tuple[str, str], int]) -> dict[tuple[str, str] | None, float]:
    """How much more a function's self share varies along the run than independent samples
    would make it vary (Kish's design effect, from batch means; at least 1)."""
    n = profile.sample_count
    batches = batch_count(n)
    if not batches:
        return {}
    sizes, counts = batch_self_counts(profile, batches)
    effects = {}
    for key, x in self_samples.items():
        p = x / n
        binomial = p * (1 - p) / n
        if binomial <= 0:
            continue
        spread = sum((size / n) ** 2 * (batch[key] / size - p) ** 2
                     for size, batch in zip(sizes, counts) if size)
        observed = spread * batches / (batches - 1)
        effects[key] = max(1.0, observed / binomial)
    if effects:
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
