"""Shared helpers of the profiling tests: the scripts, a marked launcher, reading py-spy's file."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil

from webapp.profiling import DirectLauncher, Limits, RunResult

SCRIPTS = Path(__file__).parent / "scripts"
MARKER_ENV = "FLAMEDECK_TEST_PROFILING"
MARKER = secrets.token_hex(8)  # every process a test run starts carries MARKER_ENV=MARKER
TEST_LIMITS = Limits(grace_s=5.0)


@dataclass(frozen=True)
class MarkedLauncher:
    """DirectLauncher plus a marker variable, so the final check can find escapees anywhere."""

    inner: DirectLauncher = field(default_factory=DirectLauncher)
    sandboxed: bool = False
    description: str = "test launcher"

    def launch(self, runner_argv, job_dir):
        spec = self.inner.launch(runner_argv, job_dir)
        return replace(spec, env={**(spec.env or {}), MARKER_ENV: MARKER})


def load_profile(result: RunResult) -> dict:
    """py-spy's speedscope file as JSON (fails the test if it is not valid JSON)."""
    assert result.profile_path is not None, result.outcome
    return json.loads(result.profile_path.read_bytes())


def script_samples(result: RunResult, function: str | None = None) -> int:
    """Samples whose stack holds a frame of the script itself (or of ``function``, if given)."""
    profile = load_profile(result)
    frames = profile["shared"]["frames"]
    wanted = [
        (frame["name"] == function) if function else (frame["file"] == result.script_path) for frame in frames
    ]
    return sum(
        1 for thread in profile["profiles"] for stack in thread["samples"] if any(wanted[index] for index in stack)
    )


def pid_alive(pid: int) -> bool:
    """True if the process runs (a zombie is dead; reap it if it is ours)."""
    try:
        process = psutil.Process(pid)
        if process.status() != psutil.STATUS_ZOMBIE:
            return True
        if process.ppid() == os.getpid():
            process.wait(timeout=0)
    except (psutil.Error, ChildProcessError):
        pass
    return False
