"""Fixtures for running the test scripts under the real py-spy, and a leftover check for this area."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from webapp.profiling import RUNNER_PATH, RunOptions, RunResult, run_script

from .helpers import MARKER, MARKER_ENV, SCRIPTS, TEST_LIMITS, MarkedLauncher

LEFTOVER_WAIT_S = 3.0


@pytest.fixture
def job_dir(tmp_path: Path) -> Path:
    return tmp_path / "job"


@pytest.fixture
def run(job_dir: Path):
    """run(script_name, options=None, **run_script_keywords) -> RunResult, with the marked launcher."""

    def _run(script_name: str, options: RunOptions | None = None, **keywords) -> RunResult:
        keywords.setdefault("launcher", MarkedLauncher())
        keywords.setdefault("limits", TEST_LIMITS)
        return run_script(SCRIPTS / script_name, options or RunOptions(), job_dir, **keywords)

    return _run


def _ours(process: psutil.Process, descendants: set[int]) -> bool:
    """A live process this area started: marked by our launcher, or a py-spy/runner below us.

    Other areas' tests may run py-spy at the same time on the same machine: only our
    descendants (orphans included, since the suite is a subreaper) or marked processes count.
    """
    try:
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        if process.pid in descendants and (process.name() == "py-spy" or RUNNER_PATH in process.cmdline()):
            return True
        return process.environ().get(MARKER_ENV) == MARKER
    except psutil.Error:
        return False


@pytest.fixture(scope="package", autouse=True)
def no_profiling_process_left_behind():
    """After the profiling tests: no py-spy, runner or marked process of ours is alive anywhere."""
    yield
    deadline = time.monotonic() + LEFTOVER_WAIT_S
    while True:
        descendants = {child.pid for child in psutil.Process().children(recursive=True)}
        left = [p for p in psutil.process_iter() if p.pid != os.getpid() and _ours(p, descendants)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    described = [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in left]
    for process in left:
        process.kill()
    assert not described, f"processes left running by the profiling tests: {described}"
