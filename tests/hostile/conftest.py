"""Fixtures for the hostile-script suite: a bubblewrap launcher with short limits, job dirs, checks.

The suite needs a working bubblewrap (``FLAMEDECK_SANDBOX=bwrap`` in CI): if the
sandbox cannot be set up, every test here errors with the reason instead of
silently passing unconfined.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from webapp.profiling import Limits, RunOptions, RunResult, run_script
from webapp.profiling.sandbox import SandboxLimits, choose_launcher

SCRIPTS = Path(__file__).parent / "scripts"
MIB = 1024 * 1024
# Short limits keep the suite fast; each is far below what the hostile scripts ask for.
TEST_SANDBOX = SandboxLimits(
    memory_bytes=512 * MIB,
    processes=32,
    cpu_s=2,
    cpu_cores=1.0,
    tmp_bytes=16 * MIB,
    shm_bytes=4 * MIB,  # below file_bytes, so filling it shows the size cap, not RLIMIT_FSIZE
    file_bytes=8 * MIB,
    open_files=64,
)
RUN_LIMITS = Limits(max_duration_s=10, grace_s=5.0, max_output_bytes=200_000)
LEFTOVER_WAIT_S = 3.0


@dataclass
class HostileRun:
    """One finished run and the job directory it left."""

    result: RunResult
    job_dir: Path
    script: Path

    def output(self) -> str:
        """The script's stdout and stderr as the report would show them."""
        return self.result.stdout_path.read_text(errors="replace") + self.result.stderr_path.read_text(errors="replace")

    def every_file_bytes(self) -> bytes:
        """Everything the job left on disk, concatenated (the report is built from these)."""
        return b"".join(path.read_bytes() for path in sorted(self.job_dir.rglob("*")) if path.is_file())

    def disk_bytes(self) -> int:
        """Bytes the job directory takes on disk."""
        return sum(path.stat().st_size for path in self.job_dir.rglob("*") if path.is_file())


@pytest.fixture(scope="session")
def jobs_root():
    """A directory the sandbox user can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="flamedeck-hostile-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox():
    """The bubblewrap launcher; errors (never skips) when bubblewrap does not work here."""
    mode = os.environ.get("FLAMEDECK_SANDBOX", "bwrap")
    assert mode == "bwrap", "the hostile suite tests the bubblewrap sandbox: run it with FLAMEDECK_SANDBOX=bwrap"
    launcher, warning = choose_launcher("bwrap", TEST_SANDBOX)
    assert warning is None
    return launcher


@pytest.fixture
def new_job_dir(jobs_root: Path, request):
    """new_job_dir(label) -> a fresh, empty job directory."""
    count = 0

    def _new(label: str) -> Path:
        nonlocal count
        count += 1
        path = jobs_root / f"{request.node.name}-{label}-{count}".replace("[", "-").replace("]", "")
        path.mkdir(mode=0o755)
        return path

    return _new


@pytest.fixture
def run_hostile(sandbox, new_job_dir):
    """run_hostile(script_name, *args, duration_s=3, launcher=sandbox, **flags) -> HostileRun.

    The script is copied into its job directory, so its path names this run alone.
    """

    def _run(name: str, *args: str, duration_s: int = 3, launcher=None, **flags) -> HostileRun:
        job_dir = new_job_dir(Path(name).stem)
        script = job_dir / name
        shutil.copyfile(SCRIPTS / name, script)
        launcher = launcher or sandbox
        options = RunOptions(duration_s=duration_s, args=list(args), **flags)
        result = run_script(script, options, job_dir, limits=RUN_LIMITS, python=launcher.python, launcher=launcher)
        return HostileRun(result, job_dir, script)

    return _run


def processes_matching(*needles: str) -> list[str]:
    """Live processes whose command line contains one of ``needles``, described."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid == os.getpid() or process.status() == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(process.cmdline())
        except psutil.Error:
            continue
        if any(needle in command for needle in needles):
            found.append(f"{process.pid} {command[:160]}")
    return found


def assert_nothing_left(*needles: str) -> None:
    """No process whose command line names the job (its dir, or a marker) is alive."""
    deadline = time.monotonic() + LEFTOVER_WAIT_S
    left = processes_matching(*needles)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = processes_matching(*needles)
    assert not left, f"processes of the job still alive: {left}"


@pytest.fixture(scope="session")
def other_report(jobs_root: Path) -> tuple[Path, bytes]:
    """Another report's files, world-readable, beside the jobs: no hostile run may touch them."""
    folder = jobs_root / "other-report"
    folder.mkdir(mode=0o755)
    content = secrets.token_hex(64).encode()
    (folder / "profile.speedscope.json").write_bytes(content)
    (folder / "profile.speedscope.json").chmod(0o666)  # even writable by anyone
    return folder, content


@pytest.fixture
def normal_job_succeeds(run_hostile, other_report):
    """Call after a hostile run: other reports are intact, and a normal job right after still succeeds."""

    def _check() -> None:
        folder, content = other_report
        assert sorted(p.name for p in folder.iterdir()) == ["profile.speedscope.json"]
        assert (folder / "profile.speedscope.json").read_bytes() == content
        run = run_hostile("normal.py", duration_s=5)
        assert run.result.outcome.status == "finished", (run.result.outcome, run.result.profiler_log, run.output())
        assert "normal done True" in run.output()
        assert run.result.profile_path is not None

    return _check
