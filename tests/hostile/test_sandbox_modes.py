"""FLAMEDECK_SANDBOX modes, the rlimits-only fallback and its warning, cgroups, settings."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from webapp.profiling import RunOptions, run_script
from webapp.profiling.bwrap import BwrapLauncher
from webapp.profiling.cgroup import CgroupCaps, create_job_cgroup, existing_job_cgroups
from webapp.profiling.outcome import FINISHED, RAISED
from webapp.profiling.sandbox import (
    NO_SANDBOX_WARNING, SANDBOX_SETTINGS, RlimitsLauncher, SandboxLimits, SandboxUnavailable, choose_launcher,
)
from webapp.profiling.sandbox_settings import sandbox_defaults, setting_name

from .conftest import TEST_SANDBOX, assert_nothing_left

MIB = 1024 * 1024
UNIT_SUFFIXES = ("_BYTES", "_S", "_CORES", "PROCESSES", "OPEN_FILES")


@pytest.fixture(scope="module")
def rlimits():
    # Without a pid namespace RLIMIT_NPROC counts every process and thread the sandbox user
    # has on the machine (py-spy's threads, other jobs), so these tests, which are not about
    # the process cap, give it room.
    launcher, warning = choose_launcher("rlimits", dataclasses.replace(TEST_SANDBOX, processes=1024))
    return launcher, warning


def test_rlimits_mode_warns_that_scripts_run_without_isolation(rlimits):
    launcher, warning = rlimits
    assert isinstance(launcher, RlimitsLauncher) and not launcher.sandboxed
    assert warning == NO_SANDBOX_WARNING
    assert warning.startswith("Scripts run without isolation") and warning.endswith(".")
    assert launcher.description == NO_SANDBOX_WARNING


def test_rlimits_mode_profiles_a_normal_script_as_the_service_user(rlimits, run_hostile):
    launcher, _ = rlimits
    run = run_hostile("normal.py", duration_s=5, launcher=launcher)
    assert run.result.outcome.status == FINISHED, (run.result.outcome, run.result.profiler_log)
    assert not run.result.sandboxed  # what the report shows the warning from
    if os.geteuid() == 0:  # py-spy dropped to the unprivileged user before it started
        assert run.result.profile_path.stat().st_uid == launcher.user.uid != 0
        # ... which owns only py-spy's files: the script, same user, cannot plant links in the job dir.
        assert run.job_dir.stat().st_uid == 0
        assert (run.job_dir / "stderr.txt").stat().st_uid == 0


def test_rlimits_mode_still_caps_memory(rlimits, run_hostile):
    launcher, _ = rlimits
    run = run_hostile("allocate_20gb.py", launcher=launcher)
    assert run.result.outcome.status == RAISED and "MemoryError" in run.result.outcome.message


def test_rlimits_mode_leaves_no_daemon(rlimits, run_hostile):
    launcher, _ = rlimits
    marker = "4321.123"
    run = run_hostile("daemon.py", marker, launcher=launcher, duration_s=8)
    assert "daemon started" in run.output(), (run.result.outcome, run.result.profiler_log)
    assert_nothing_left(str(run.job_dir), f"sleep {marker}")


def test_auto_uses_bubblewrap_when_it_works():
    launcher, warning = choose_launcher("auto", TEST_SANDBOX)
    assert isinstance(launcher, BwrapLauncher) and launcher.sandboxed
    assert warning is None


def test_auto_falls_back_to_rlimits_with_the_warning():
    launcher, warning = choose_launcher("auto", TEST_SANDBOX, bwrap="/nonexistent/bwrap")
    assert isinstance(launcher, RlimitsLauncher) and not launcher.sandboxed
    assert warning.startswith(NO_SANDBOX_WARNING)
    assert "bubblewrap is not installed at /nonexistent/bwrap" in warning


def test_bwrap_mode_refuses_to_run_unconfined():
    with pytest.raises(SandboxUnavailable, match="FLAMEDECK_SANDBOX is 'bwrap' but"):
        choose_launcher("bwrap", TEST_SANDBOX, bwrap="/nonexistent/bwrap")


def test_unknown_mode_is_refused_with_the_choices():
    with pytest.raises(SandboxUnavailable, match="must be one of auto, bwrap, rlimits; 'docker' was given"):
        choose_launcher("docker", TEST_SANDBOX)


def test_an_unreadable_interpreter_is_reported_by_the_self_test():
    if os.geteuid() != 0:
        pytest.skip("only a root worker drops to a user that may not reach the interpreter")
    limits = SandboxLimits(python="/root/no-such-python3")
    with pytest.raises(SandboxUnavailable, match="cannot run the interpreter /root/no-such-python3"):
        choose_launcher("bwrap", limits)


def test_a_job_with_an_interpreter_the_user_cannot_run_is_refused(sandbox, new_job_dir):
    if os.geteuid() != 0:
        pytest.skip("only a root worker drops to a user that may not reach the interpreter")
    job_dir = new_job_dir("python")
    script = job_dir / "normal.py"
    script.write_text("print('never')\n")
    with pytest.raises(SandboxUnavailable, match="Pass the launcher's own interpreter"):
        run_script(script, RunOptions(duration_s=2), job_dir, python="/root/no-such-python3", launcher=sandbox)


def _cgroup_writable(launcher) -> bool:
    group = create_job_cgroup(f"{os.getpid()}-probe", CgroupCaps(64 * MIB, 8, 1.0), None, launcher.limits.cgroup_parent)
    if group is None:
        return False
    group.remove()
    return True


def _our_job_cgroups(launcher) -> list[Path]:
    ours = f"flamedeck-{os.getpid()}-"
    return [p for p in existing_job_cgroups(launcher.limits.cgroup_parent) if p.name.startswith(ours)]


def test_each_job_gets_a_capped_cgroup_removed_afterwards(sandbox, run_hostile, monkeypatch):
    if not _cgroup_writable(sandbox):
        pytest.skip("no writable cgroup here: the rlimits alone apply")
    during: dict[str, str] = {}
    original = BwrapLauncher.launch

    def launch_and_look(self, runner_argv, job_dir):
        spec = original(self, runner_argv, job_dir)
        for job in _our_job_cgroups(self):
            for name in ("memory.limit_in_bytes", "memory.max", "pids.max"):
                if (job / "box" / name).exists():
                    during[name] = (job / "box" / name).read_text().strip()
        return spec

    monkeypatch.setattr(BwrapLauncher, "launch", launch_and_look)
    run = run_hostile("normal.py", duration_s=5)
    assert run.result.outcome.status == FINISHED, run.result.outcome
    memory = during.get("memory.max", during.get("memory.limit_in_bytes"))
    assert memory == str(TEST_SANDBOX.memory_bytes) and during["pids.max"] == str(TEST_SANDBOX.processes)
    assert _our_job_cgroups(sandbox) == []


def test_cgroups_of_a_dead_worker_are_removed_at_start(sandbox):
    if not _cgroup_writable(sandbox):
        pytest.skip("no writable cgroup here")
    dead_pid = _dead_pid()
    group = create_job_cgroup(f"{dead_pid}-stale", CgroupCaps(64 * MIB, 8, 1.0), None, sandbox.limits.cgroup_parent)
    assert group is not None and all(job.exists() for job in group.jobs)
    choose_launcher("rlimits", TEST_SANDBOX)
    assert not any(job.exists() for job in group.jobs)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_cgroup_caps_memory_spread_over_processes(sandbox, run_hostile):
    if not _cgroup_writable(sandbox):
        pytest.skip("no writable cgroup here: memory is capped per process only")
    each = TEST_SANDBOX.memory_bytes // 3  # under RLIMIT_AS for each child, four of them over the job's cap
    run = run_hostile("memory_in_children.py", str(each), "4", duration_s=6)
    assert "child killed by signal 9" in run.output(), run.output()
    assert_nothing_left(str(run.job_dir))


def test_every_sandbox_setting_has_a_row_with_a_unit():
    names = [row[0] for row in SANDBOX_SETTINGS]
    expected = ["SANDBOX"] + [setting_name(item.name) for item in fields(SandboxLimits)]
    assert names == expected
    assert set(sandbox_defaults()) == set(names)
    for name, unit, help_text in SANDBOX_SETTINGS:
        assert unit and help_text.endswith(".")
    limits = [name for name in names if name.startswith("SANDBOX_") and name not in (
        "SANDBOX_USER", "SANDBOX_PYTHON", "SANDBOX_CGROUP_PARENT")]
    assert all(name.endswith(UNIT_SUFFIXES) for name in limits), limits


def test_limits_come_from_the_settings_mapping():
    limits = SandboxLimits.from_settings({"SANDBOX_MEMORY_BYTES": 123 * MIB, "SANDBOX_CPU_S": 7, "OTHER": 1})
    assert limits.memory_bytes == 123 * MIB and limits.cpu_s == 7
    assert limits.processes == SandboxLimits().processes
