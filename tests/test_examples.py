"""The example scripts: each finishes in a few seconds and, under real py-spy,
shows the functions its docstring promises."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
PY_SPY = Path(sys.executable).parent / "py-spy"

DEFAULT_RUNTIME_MIN_S = 2.0  # "a few seconds" by default: long enough to see something
DEFAULT_RUNTIME_MAX_S = 4.0
STARTUP_SLACK_S = 3.0  # interpreter start, imports, process pools on a busy machine
SHORT_RUNTIME_S = 0.5
PROFILED_RUNTIME_S = 1.5
SAMPLING_RATE_HZ = 200

# example -> (extra py-spy options, functions that must be sampled)
EXPECTED = {
    "server_simulation.py": (
        [],
        {"process_data", "compute_intensive_work", "fibonacci", "find_primes", "is_prime"},
    ),
    "multi_threaded.py": ([], {"hash_blocks", "sort_lists", "count_primes", "multiply_matrices"}),
    "multiprocessing_pool.py": (
        ["--subprocesses"],
        {"collatz_lengths", "monte_carlo_pi", "sum_of_divisors"},
    ),
    "io_bound.py": (["--idle"], {"wait_for_database", "fetch_over_socket", "echo_server"}),
    "deep_recursion.py": ([], {"walk_tree", "ackermann", "is_even", "is_odd"}),
}


def test_every_example_is_listed_and_documented():
    scripts = sorted(path.name for path in EXAMPLES_DIR.glob("*.py"))
    assert scripts == sorted(EXPECTED)
    for name in scripts:
        docstring = ast.get_docstring(ast.parse((EXAMPLES_DIR / name).read_text()))
        assert docstring and "shows" in docstring, f"{name} needs a docstring saying what it shows"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_honours_runtime(name):
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / name), "--runtime", str(SHORT_RUNTIME_S)],
        capture_output=True,
        text=True,
        timeout=SHORT_RUNTIME_S + STARTUP_SLACK_S,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "each example prints a short summary"
    assert SHORT_RUNTIME_S <= elapsed < SHORT_RUNTIME_S + STARTUP_SLACK_S


@pytest.mark.slow
def test_examples_finish_in_a_few_seconds_by_default():
    # All at once, so the test costs one default run; each example stops on a
    # wall-clock deadline, so sharing the CPUs does not lengthen any of them.
    started = time.perf_counter()
    processes = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES_DIR / name)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for name in EXPECTED
    }
    finished = {}
    for name, process in processes.items():
        process.communicate(timeout=DEFAULT_RUNTIME_MAX_S + STARTUP_SLACK_S)
        finished[name] = (process.returncode, time.perf_counter() - started)
    for name, (returncode, elapsed) in finished.items():
        assert returncode == 0, name
    slowest = max(elapsed for _, elapsed in finished.values())
    assert DEFAULT_RUNTIME_MIN_S <= slowest < DEFAULT_RUNTIME_MAX_S + STARTUP_SLACK_S


def sampled_profile(name: str, options: list[str], output: Path) -> dict:
    """Run one example under py-spy and return the speedscope document."""
    command = [
        str(PY_SPY), "record", "--format", "speedscope", "-o", str(output),
        "-r", str(SAMPLING_RATE_HZ), *options, "--",
        sys.executable, str(EXAMPLES_DIR / name), "--runtime", str(PROFILED_RUNTIME_S),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, check=True, timeout=PROFILED_RUNTIME_S + 20)
    return json.loads(output.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_under_py_spy_shows_its_functions(name, tmp_path):
    options, expected = EXPECTED[name]
    document = sampled_profile(name, options, tmp_path / "profile.speedscope.json")
    frames = document["shared"]["frames"]
    sampled = {
        frames[index]["name"]
        for profile in document["profiles"]
        for stack in profile["samples"]
        for index in stack
        if frames[index]["file"].endswith(name)
    }
    assert expected <= sampled, f"missing: {sorted(expected - sampled)}"
    if name == "multiprocessing_pool.py":
        names = [profile["name"] for profile in document["profiles"]]
        processes = {name.split()[1] for name in names if name.startswith("Process")}
        assert len(processes) >= 4  # the parent and three pool workers
    if name == "deep_recursion.py":
        deepest = max(len(stack) for p in document["profiles"] for stack in p["samples"])
        assert deepest >= 300
