"""Function, line and thread statistics on small hand-built profiles.

The main profile (``two_threads``), with every expected number counted by hand:

    thread "main"  (10 samples)
      main@app:1 > work@app:10 > leaf@lib:20      4 + 2 samples (two runs)
      main@app:1 > work@app:12                    3
      main@app:2                                  1
    thread "worker" (10 samples)
      run@app:30 > rec@app:40 > rec@app:41 > rec@app:40    5   (recursion)
      run@app:30 > rec@app:40 > leaf@lib:22                5
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from webapp.analysis.stats import (
    FunctionStat,
    function_stats,
    line_stats,
    summarize,
    thread_stats,
)
from webapp.profiles.model import Frame, Profile

APP, LIB = "/src/app.py", "/usr/lib/lib.py"
MAIN_1, MAIN_2 = ("main", APP, 1), ("main", APP, 2)
WORK_10, WORK_12 = ("work", APP, 10), ("work", APP, 12)
LEAF_20, LEAF_22 = ("leaf", LIB, 20), ("leaf", LIB, 22)
RUN_30, REC_40, REC_41 = ("run", APP, 30), ("rec", APP, 40), ("rec", APP, 41)


@pytest.fixture
def two_threads(build_profile) -> Profile:
    return build_profile(
        {
            "main": [
                ([MAIN_1, WORK_10, LEAF_20], 4),
                ([MAIN_1, WORK_12], 3),
                ([MAIN_1, WORK_10, LEAF_20], 2),
                ([MAIN_2], 1),
            ],
            "worker": [
                ([RUN_30, REC_40, REC_41, REC_40], 5),
                ([RUN_30, REC_40, LEAF_22], 5),
            ],
        },
        interval_s=0.01,
    )


def by_name(stats: list[FunctionStat]) -> dict[str, FunctionStat]:
    return {stat.name: stat for stat in stats}


def test_self_and_total_samples_merged_over_threads(two_threads):
    stats = by_name(function_stats(two_threads))
    counts = {name: (s.self_samples, s.total_samples) for name, s in stats.items()}
    assert counts == {
        "leaf": (6 + 5, 6 + 5),
        "rec": (5, 10),
        "work": (3, 9),
        "main": (1, 10),
        "run": (0, 10),
    }


def test_percentages_are_of_all_samples_in_the_selection(two_threads):
    stats = by_name(function_stats(two_threads))  # 20 samples
    assert stats["leaf"].self_percent == pytest.approx(55.0)
    assert stats["work"].total_percent == pytest.approx(45.0)
    assert stats["rec"].self_percent == pytest.approx(25.0)
    assert stats["run"].self_percent == 0.0


def test_percentages_are_not_rounded(build_profile):
    profile = build_profile({"t": [([("a", APP, 1)], 1), ([("b", APP, 2)], 2)]})
    stats = by_name(function_stats(profile))
    assert stats["a"].self_percent == pytest.approx(100 / 3, abs=1e-9)


def test_recursion_counts_once_per_sample(two_threads):
    stats = function_stats(two_threads)
    rec = by_name(stats)["rec"]
    assert rec.total_samples == 10  # not 5 * 3 + 5
    assert all(stat.total_samples <= 20 for stat in stats)
    assert all(stat.total_percent <= 100.0 for stat in stats)


def test_sorted_by_self_then_total_then_name(two_threads, build_profile):
    # leaf and rec tie on self in the worker thread; rec has more total samples.
    worker = [t for t in two_threads.threads if t.name == "worker"]
    assert [s.name for s in function_stats(two_threads, worker)] == ["rec", "leaf", "run"]
    assert [s.name for s in function_stats(two_threads)] == ["leaf", "rec", "work", "main", "run"]
    ties = build_profile({"t": [([("zeta", APP, 1)], 2), ([("alpha", APP, 5)], 2)]})
    assert [s.name for s in function_stats(ties)] == ["alpha", "zeta"]


def test_function_line_is_smallest_line_sampled(two_threads):
    stats = by_name(function_stats(two_threads))
    assert (stats["work"].line, stats["main"].line, stats["rec"].line) == (10, 1, 40)
    assert stats["leaf"].line == 20  # sampled at 20 (main) and 22 (worker)


def test_per_thread_selection(two_threads):
    worker = [t for t in two_threads.threads if t.name == "worker"]
    stats = by_name(function_stats(two_threads, worker))
    assert set(stats) == {"run", "rec", "leaf"}  # main's functions are not listed
    assert (stats["leaf"].self_samples, stats["leaf"].self_percent) == (5, pytest.approx(50.0))
    assert stats["run"].total_percent == pytest.approx(100.0)
    assert stats["leaf"].line == 22  # only the lines sampled in this thread


def test_same_name_in_two_files_are_two_functions(build_profile):
    profile = build_profile({"t": [([("helper", APP, 3)], 2), ([("helper", LIB, 3)], 1)]})
    stats = function_stats(profile)
    assert [(s.name, s.file, s.self_samples) for s in stats] == [
        ("helper", APP, 2),
        ("helper", LIB, 1),
    ]


def test_samples_without_frames_count_in_the_denominator(build_profile):
    profile = build_profile({"t": [([], 3), ([("busy", APP, 1)], 1)]})
    (busy,) = function_stats(profile)
    assert busy.self_percent == pytest.approx(25.0)


def test_line_stats(two_threads):
    lines = line_stats(two_threads)
    counts = {key: (s.self_samples, s.total_samples) for key, s in lines.items()}
    assert counts == {
        (APP, 1): (0, 9),
        (APP, 2): (1, 1),
        (APP, 10): (0, 6),
        (APP, 12): (3, 3),
        (LIB, 20): (6, 6),
        (APP, 30): (0, 10),
        (APP, 40): (5, 10),  # twice in the recursive stack, counted once
        (APP, 41): (0, 5),
        (LIB, 22): (5, 5),
    }
    assert lines[(APP, 40)].total_percent == pytest.approx(50.0)


def test_line_stats_per_thread(two_threads):
    main = [t for t in two_threads.threads if t.name == "main"]
    lines = line_stats(two_threads, main)
    assert set(lines) == {(APP, 1), (APP, 2), (APP, 10), (APP, 12), (LIB, 20)}
    assert lines[(LIB, 20)].self_percent == pytest.approx(60.0)


def test_thread_stats(two_threads):
    two_threads.threads[1].process = "pid 7"
    two_threads.threads[1].tid = 4243
    assert thread_stats(two_threads) == [
        {"name": "main", "tid": None, "process": "", "samples": 10},
        {"name": "worker", "tid": 4243, "process": "pid 7", "samples": 10},
    ]
    two_threads.threads[1].name = ""  # py-spy had no name for it: its id stands in
    assert thread_stats(two_threads)[1]["name"] == "Thread 4243"


def test_summarize(two_threads):
    two_threads.start_s, two_threads.end_s = 1.0, 1.25
    summary = summarize(two_threads, top=2)
    assert summary["total_samples"] == 20
    assert summary["unique_functions"] == 5
    assert [f["name"] for f in summary["hot_functions"]] == ["leaf", "rec"]
    assert summary["hot_functions"][0] == {
        "name": "leaf",
        "file": LIB,
        "line": 20,
        "self_samples": 11,
        "total_samples": 11,
        "self_percent": pytest.approx(55.0),
        "total_percent": pytest.approx(55.0),
        "line_is_definition": False,  # no source read: the first sampled line
    }
    assert [t["samples"] for t in summary["threads"]] == [10, 10]
    assert summary["duration_s"] == pytest.approx(0.25)
    assert summary["interval_s"] == 0.01
    assert len(summarize(two_threads)["hot_functions"]) == 5


def test_summarize_without_times_estimates_duration_from_samples(two_threads):
    assert summarize(two_threads)["duration_s"] == pytest.approx(10 * 0.01)


def test_empty_profile():
    summary = summarize(Profile())
    assert summary["total_samples"] == 0
    assert summary["hot_functions"] == [] and summary["threads"] == []
    assert line_stats(Profile()) == {}


def test_stats_are_frozen(two_threads):
    stat = function_stats(two_threads)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stat.self_samples = 0


# -- speed ----------------------------------------------------------------------

SAMPLES = 1_000_000
DISTINCT_STACKS = 30_000


def large_profile() -> Profile:
    """A million samples over 30k distinct stacks 10-60 frames deep."""
    rng = random.Random(7)
    profile = Profile()
    frames = [
        profile.intern_frame(Frame(f"fn{i % 500}", f"/src/mod{i % 50}.py", i)) for i in range(4000)
    ]
    stack_ids = [
        profile.intern_stack(tuple(rng.choice(frames) for _ in range(rng.randint(10, 60))))
        for _ in range(DISTINCT_STACKS)
    ]
    thread, taken = profile.add_thread("main"), 0
    while taken < SAMPLES:
        count = min(rng.randint(1, 9), SAMPLES - taken)
        thread.append(rng.choice(stack_ids), count)
        taken += count
    return profile


def test_a_million_samples_are_all_counted():
    # How fast this is belongs to benchmarks/ingest.py: a timed test fails on a busy machine.
    profile = large_profile()
    summary = summarize(profile)
    lines = line_stats(profile)
    assert summary["total_samples"] == SAMPLES
    assert sum(f["self_samples"] for f in summary["hot_functions"]) == SAMPLES
    assert sum(line.self_samples for line in lines.values()) == SAMPLES
