"""Design effects: the batch counts against a sample-by-sample definition, and the effect itself."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.analysis.design_effects import batch_count, batch_self_counts, design_effects, summary_entry

FUNCTIONS = [("f", "a.py", 1), ("g", "a.py", 5), ("g", "a.py", 6), ("h", "b.py", 2)]  # g: two lines


def reference_counts(profile, batches):
    """Sample by sample: sample s of a thread of n samples is in the batch b with
    n*b//batches <= s < n*(b+1)//batches; its self sample goes to its innermost function."""
    sizes, counts = [0] * batches, [Counter() for _ in range(batches)]
    for thread in profile.threads:
        samples = [stack_id for stack_id, count in thread.runs() for _ in range(count)]
        for s, stack_id in enumerate(samples):
            batch = max(b for b in range(batches) if len(samples) * b // batches <= s)
            sizes[batch] += 1
            stack = profile.stacks[stack_id]
            if stack:
                counts[batch][profile.frames[stack[-1]].function_key] += 1
    return sizes, counts


stacks = st.lists(st.sampled_from(range(len(FUNCTIONS))), max_size=4)
threads = st.lists(st.lists(st.tuples(stacks, st.integers(1, 40)), max_size=12), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # a pure builder
@given(threads=threads, batches=st.integers(1, 20))
def test_batch_counts_follow_the_sample_by_sample_definition(build_profile, threads, batches):
    profile = build_profile({
        f"t{k}": [([FUNCTIONS[f] for f in stack], count) for stack, count in runs] for k, runs in enumerate(threads)
    })
    sizes, counts, keys = batch_self_counts(profile, batches)
    expected_sizes, expected_counts = reference_counts(profile, batches)
    assert sizes.tolist() == expected_sizes
    assert [{keys[k]: int(n) for k, n in enumerate(row) if n} for row in counts] == \
        [dict(batch) for batch in expected_counts]


def test_a_function_that_runs_only_in_one_half_has_a_large_design_effect(build_profile):
    f, g = [FUNCTIONS[0]], [FUNCTIONS[3]]
    profile = build_profile({"main": [(f, 500), (g, 500)]})
    effects = design_effects(profile, {("f", "a.py"): 500, ("h", "b.py"): 500})
    # 20 batches of 50, each all f or all h: batch shares 1 or 0 around p = 1/2, so the
    # batch-means variance is 1/(4(B-1)) against the binomial 1/(4n): n/(B-1).
    assert effects[("f", "a.py")] == pytest.approx(1000 / 19)
    assert effects[None] == effects[("f", "a.py")] == effects[("h", "b.py")]


def test_steady_interleaving_gives_no_correction(build_profile):
    f, g = [FUNCTIONS[0]], [FUNCTIONS[3]]
    profile = build_profile({"main": [(f, 1), (g, 1)] * 500})
    effects = design_effects(profile, {("f", "a.py"): 500, ("h", "b.py"): 500})
    assert effects == {("f", "a.py"): 1.0, ("h", "b.py"): 1.0, None: 1.0}


def test_a_function_absent_from_the_profile_counts_zero_in_every_batch(build_profile):
    profile = build_profile({"main": [([FUNCTIONS[0]], 300), ([FUNCTIONS[3]], 300)]})
    effects = design_effects(profile, {("f", "a.py"): 300, ("elsewhere", "x.py"): 100})
    assert effects[("elsewhere", "x.py")] > 1  # 0 in every batch against p = 1/6


def test_too_few_samples_for_batches_give_no_estimate(build_profile):
    profile = build_profile({"main": [([FUNCTIONS[0]], 5 * 25 - 1)]})
    assert batch_count(profile.sample_count) == 0
    assert design_effects(profile, {("f", "a.py"): 124}) == {}
    assert summary_entry(profile, []) == {"batches": 0, "mean": 1.0, "functions": []}
