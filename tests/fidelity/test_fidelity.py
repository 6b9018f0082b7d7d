"""Given a script whose behaviour we know, the report says so: real py-spy, the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.analysis import function_stats
from webapp.pipeline import profile_script
from webapp.profiles import load_profile
from webapp.profiling import RunOptions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOLERANCE_POINTS = 5.0

SPLIT_SCRIPT = """\
import random
import time

def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def half():
    spin(0.001)

def thirty():
    spin(0.001)

def twenty():
    spin(0.001)

# Work is handed out in 1 ms slices chosen at random with weights 5:3:2, so that the
# sampler's fixed period cannot line up with a fixed pattern of calls.
chooser = random.Random(1)
end = time.perf_counter() + 3.0
while time.perf_counter() < end:
    chooser.choices((half, thirty, twenty), weights=(5, 3, 2))[0]()
"""

THREADS_SCRIPT = """\
import threading
import time

def burn(seconds):
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(100))

workers = [threading.Thread(target=burn, args=(1.5,), name=f"worker-{n}") for n in range(4)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
"""


def run_report(tmp_path: Path, source: str | None = None, example: str | None = None, **options):
    script = EXAMPLES / example if example else tmp_path / "script.py"
    if source is not None:
        script.write_text(source)
    report = profile_script(script, RunOptions(**options), tmp_path / "job")
    assert report.produced_profile, report.summary["outcome"]
    return report


def run(tmp_path: Path, source: str | None = None, example: str | None = None, **options) -> dict:
    return run_report(tmp_path, source, example, **options).summary


@pytest.mark.slow
def test_a_50_30_20_split_of_cpu_time_shows_as_such(tmp_path):
    summary = run(tmp_path, SPLIT_SCRIPT, duration_s=10, rate_hz=250)
    self_samples = {f["name"]: f["self_samples"] for f in summary["hot_functions"]}
    # spin() is where the time is spent; its callers tell the three shares apart.
    totals = {f["name"]: f["total_samples"] for f in summary["hot_functions"]}
    measured = {name: totals[name] for name in ("half", "thirty", "twenty")}
    whole = summary["total_samples"]
    assert sum(measured.values()) >= 0.8 * whole  # start-up and the loop itself cost little
    # The split is of the time spent in the three functions, so that is the denominator.
    for name, expected in (("half", 50), ("thirty", 30), ("twenty", 20)):
        share = 100 * measured[name] / sum(measured.values())
        assert abs(share - expected) <= TOLERANCE_POINTS, (name, share, measured)
    assert self_samples["spin"] >= 0.8 * whole


@pytest.mark.slow
def test_deep_recursion_never_counts_a_function_twice(tmp_path):
    summary = run(tmp_path, example="deep_recursion.py", duration_s=10, rate_hz=200, args=["--runtime", "1"])
    assert all(f["total_percent"] <= 100.0 for f in summary["hot_functions"])
    recursive = {f["name"]: f for f in summary["hot_functions"] if f["name"] in ("walk_tree", "ackermann")}
    assert set(recursive) == {"walk_tree", "ackermann"}
    for function in recursive.values():  # hundreds of frames deep, yet counted once per sample
        assert 0 < function["total_samples"] <= summary["total_samples"]
        assert function["self_samples"] <= function["total_samples"]


@pytest.mark.slow
def test_four_threads_show_as_four_threads(tmp_path):
    report = run_report(tmp_path, THREADS_SCRIPT, duration_s=10, rate_hz=100)
    profile = load_profile(report.artifacts["profile.speedscope.json"])
    burning = [t for t in profile.threads if any(f.name == "burn" for f in function_stats(profile, [t]))]
    # py-spy reads Python thread names from the interpreter and now and then misses one
    # (it then says "Thread <tid>"), so threads are told apart by what they ran, not by name.
    assert len(burning) == 4, [t.name for t in profile.threads]
    assert all(t.sample_count >= 20 for t in burning)  # each burnt about 1/4 of 1.5 s


@pytest.mark.slow
def test_child_processes_show_when_subprocesses_are_profiled(tmp_path):
    summary = run(tmp_path, example="multiprocessing_pool.py", duration_s=10, rate_hz=100,
                  subprocesses=True, args=["--runtime", "1.5"])
    processes = {thread["process"] for thread in summary["threads"]}
    assert len(processes) >= 3, summary["threads"]  # the parent and at least two pool workers
    assert all(process.startswith("pid ") for process in processes)
    # py-spy's synthetic "process N:<command line>" frames never reach the report.
    assert not any(f["name"].startswith("process ") for f in summary["hot_functions"])
