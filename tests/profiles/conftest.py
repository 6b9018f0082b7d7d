"""Shared fixtures of the profiles tests: real py-spy files and ways to compare profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.profiles import Profile

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PYSPY_FILES = {
    "single": FIXTURES / "pyspy-single.speedscope.json",
    "threads": FIXTURES / "pyspy-threads.speedscope.json",
    "subprocesses": FIXTURES / "pyspy-subprocesses.speedscope.json",
}


def runs_by_thread(profile: Profile) -> list[tuple[str, str, list[tuple[tuple, int]]]]:
    """Each thread as (name, process, tid, [(stack as Frame tuple, samples), ...]) in time order.

    Independent of frame and stack numbering, so two profiles built in a
    different order compare equal when they say the same thing.
    """
    return [
        (
            thread.name,
            thread.process,
            thread.tid,
            [(tuple(profile.frame_stack(stack_id)), count) for stack_id, count in thread.runs()],
        )
        for thread in profile.threads
    ]


@pytest.fixture(scope="session")
def pyspy_bytes():
    """``pyspy_bytes("threads")`` -> the bytes of a real py-spy 0.4.3 speedscope file."""
    return lambda name: PYSPY_FILES[name].read_bytes()


@pytest.fixture(scope="session")
def thread_runs():
    """:func:`runs_by_thread` as a fixture, for comparing profiles in tests."""
    return runs_by_thread
