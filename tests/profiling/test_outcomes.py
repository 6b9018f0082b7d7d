"""Given a script that ends a certain way, the run's outcome says so in a sentence (real py-spy)."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import psutil
import pytest

from webapp.profiling import RUNNER_PATH, LaunchSpec, RunOptions, finalize_outcome, run_script

from .helpers import SCRIPTS, TEST_LIMITS, load_profile, script_samples

NOBODY = 65534


def test_a_script_that_finishes(run):
    result = run("busy.py")
    assert result.outcome.status == "finished"
    assert result.outcome.exit_code == 0
    assert result.outcome.message.startswith("The script finished normally in ")
    assert result.stdout_path.read_text() == "busy done\n"
    samples = script_samples(result, function="spin")
    assert samples > 10
    assert finalize_outcome(result, samples) == result.outcome


def test_the_runner_hides_behind_a_known_file_name(run):
    result = run("busy.py")
    profile = load_profile(result)
    files = [frame["file"] for frame in profile["shared"]["frames"]]
    assert RUNNER_PATH in files and result.script_path in files
    assert not [name for name in files if name.endswith("runpy.py")]


def test_a_script_that_exits_with_a_code(run):
    result = run("exit_with.py", RunOptions(args=["3"]))
    assert (result.outcome.status, result.outcome.exit_code) == ("exited", 3)
    assert result.outcome.message == "The script exited with code 3."


def test_a_script_that_exits_with_a_message(run):
    result = run("exit_with.py", RunOptions(args=["bye now"]))
    assert (result.outcome.status, result.outcome.exit_code) == ("exited", 1)
    assert result.outcome.message == "The script exited with code 1: bye now."
    assert result.stderr_path.read_text() == "bye now\n"  # Python prints it, as it would without us


def test_a_script_that_leaves_with_os_exit(run):
    result = run("hard_exit.py")
    assert (result.outcome.status, result.outcome.exit_code, result.outcome.reason) == (
        "exited",
        None,
        "unreported_exit",
    )
    assert result.outcome.message.startswith("The script stopped without reporting how it ended: it called os._exit()")


def test_a_script_that_raises(run):
    result = run("raises.py")
    assert (result.outcome.status, result.outcome.exit_code) == ("raised", 1)
    assert result.outcome.message == "The script raised ValueError: the input was negative."
    traceback = result.outcome.details
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert 'raises.py", line 7, in check' in traceback
    assert "runner.py" not in traceback
    assert traceback.endswith("ValueError: the input was negative\n")


def test_a_script_with_a_syntax_error(job_dir, tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("def broken(:\n    pass\n")
    result = run_script(script, RunOptions(), job_dir)
    assert result.outcome.status == "raised"
    assert result.outcome.message.startswith("The script raised SyntaxError: ")
    assert "broken.py" in result.outcome.message


def test_a_script_with_nothing_to_sample(run):
    """GIL-only mode never samples a sleeping thread; the runner's own samples do not count."""
    result = run("sleeps.py", RunOptions(gil=True, args=["0.5"]))
    outcome = finalize_outcome(result, script_samples(result))
    assert (outcome.status, outcome.reason, outcome.exit_code) == ("no_samples", "no_samples", 0)
    assert outcome.message == (
        "The profiler took no samples: the script ended too quickly, or it only waited "
        "(sleeping, reading, or waiting on a lock). Make it run longer. "
        "Turn off GIL-only mode to sample threads that wait too."
    )


@dataclass
class InstantLauncher:
    """Replaces the runner by a shell that writes the given status lines, as the runner
    would, and exits within a millisecond, without waiting at the start gate. A shell is
    never a Python py-spy can attach to, so py-spy's real "could not attach" output is
    produced on demand. (The real runner waits at the gate until py-spy has attached,
    so with it a script cannot end before py-spy attaches.)"""

    status_lines: str = ""
    launches: int = 0
    sandboxed: bool = False
    description: str = "exits before py-spy attaches"

    def launch(self, runner_argv, job_dir):
        self.launches += 1
        status_fd = runner_argv[3]
        write_status = 'printf "%s" "$1" >&"$2"'  # bash: dash refuses descriptors above 9
        return LaunchSpec(argv=["/bin/bash", "-c", write_status, "bash", self.status_lines, status_fd])


PY_SPY_COULD_NOT_ATTACH = re.compile("Failed to get process executable name|Failed to find python version")


def test_a_script_that_ends_before_the_profiler_attaches(job_dir):
    ran_at_once = InstantLauncher('{"kind": "started"}\n{"kind": "exited", "exit_code": 0}\n')
    result = run_script(SCRIPTS / "empty.py", RunOptions(), job_dir, launcher=ran_at_once)
    assert PY_SPY_COULD_NOT_ATTACH.search(result.profiler_log), result.profiler_log
    assert (result.outcome.status, result.outcome.reason, result.outcome.exit_code) == ("no_samples", "not_attached", 0)
    assert result.outcome.message == (
        "The script ended before the profiler could attach to it, so nothing was sampled. "
        "Give it more work, for example a loop that runs for at least a second."
    )
    assert result.profile_path is None
    assert ran_at_once.launches == 1  # the script ran: never run it twice


def test_a_script_that_fails_before_the_profiler_attaches(job_dir):
    failed_at_once = InstantLauncher(
        '{"kind": "started"}\n{"kind": "raised", "exit_code": 1, "exception_type": "ImportError", '
        '"message": "No module named \'numpy\'"}\n'
    )
    result = run_script(SCRIPTS / "empty.py", RunOptions(), job_dir, launcher=failed_at_once)
    assert (result.outcome.status, result.outcome.reason) == ("raised", "not_attached")
    assert result.outcome.message == (
        "The script raised ImportError: No module named 'numpy'. Nothing was sampled before it ended."
    )


def test_an_interpreter_the_profiler_cannot_attach_to_is_tried_again(job_dir):
    never_starts = InstantLauncher()
    limits = replace(TEST_LIMITS, attach_attempts=2)
    result = run_script(SCRIPTS / "empty.py", RunOptions(), job_dir, launcher=never_starts, limits=limits)
    assert never_starts.launches == 2
    assert (result.outcome.status, result.outcome.reason) == ("error", "attach_failed")
    assert result.outcome.message == (
        "The profiler could not attach to the Python interpreter while it was starting, so the "
        "script was not run. The server may be overloaded; please try again."
    )


@dataclass
class SlowFirstStart:
    """The first start keeps a non-Python program in front of the runner for 1 s (longer
    than py-spy keeps trying to attach): what a very slow interpreter start-up looks like."""

    launches: int = 0
    sandboxed: bool = False
    description: str = "slow first start"

    def launch(self, runner_argv, job_dir):
        self.launches += 1
        if self.launches == 1:
            return LaunchSpec(argv=["/bin/sh", "-c", 'sleep 1; exec "$@"', "sh", *runner_argv])
        return LaunchSpec(argv=runner_argv)


def test_a_failed_attach_is_retried_and_then_succeeds(job_dir):
    launcher = SlowFirstStart()
    result = run_script(SCRIPTS / "busy.py", RunOptions(), job_dir, launcher=launcher, limits=TEST_LIMITS)
    assert launcher.launches == 2
    assert result.outcome.status == "finished", result.profiler_log
    assert result.stdout_path.read_text() == "busy done\n"


def test_an_interpreter_that_does_not_exist(job_dir):
    result = run_script(SCRIPTS / "busy.py", RunOptions(), job_dir, python="/nonexistent/python3")
    assert (result.outcome.status, result.outcome.reason) == ("error", "interpreter_not_found")
    assert result.outcome.message == (
        "The Python interpreter '/nonexistent/python3' could not be started (No such file or directory). "
        "Check the interpreter path this server is configured with."
    )
    assert result.profile_path is None


def test_no_py_spy_installed(job_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_script(SCRIPTS / "busy.py", RunOptions(), job_dir)
    assert (result.outcome.status, result.outcome.reason) == ("error", "profiler_missing")
    assert result.outcome.message.startswith("The py-spy profiler is not installed next to this Python nor on the PATH")


def test_a_profiler_that_dies_mid_run(run):
    """py-spy killed by a signal is "crashed"; the runner, its child, dies with it (PDEATHSIG)."""
    seen = {}

    def kill_py_spy(elapsed_s):
        if elapsed_s < 0.5 or seen:
            return
        (py_spy,) = [p for p in psutil.Process().children() if p.name() == "py-spy"]
        (runner,) = py_spy.children()
        py_spy.kill()
        seen["runner_gone"] = _gone_within(runner, 2.0)

    result = run("stubborn.py", RunOptions(duration_s=10), on_progress=kill_py_spy)
    assert seen["runner_gone"], "the runner outlived py-spy"
    assert (result.outcome.status, result.outcome.reason) == ("error", "profiler_crashed")
    assert result.outcome.message == (
        "The profiler stopped unexpectedly (killed by signal 9), so no profile was written. "
        "Its log is below; if this keeps happening, report it with that log."
    )
    assert result.elapsed_s < 5


def test_a_profile_file_that_cannot_be_read(run):
    result = run("busy.py")
    text = result.profile_path.read_bytes()
    result.profile_path.write_bytes(text[: len(text) // 2])
    try:
        script_samples(result)
        count = 0
    except ValueError:  # what the importer's parse error stands for
        count = None
    outcome = finalize_outcome(result, count)
    assert (outcome.status, outcome.reason, outcome.exit_code) == ("error", "profile_corrupted", 0)
    assert outcome.message.startswith("The profiler's output file could not be read (it is damaged or incomplete)")


@dataclass(frozen=True)
class UnprivilegedLauncher:
    """Runs py-spy as nobody against a program nobody may not read (so it is not dumpable):
    the kernel then refuses py-spy access to the process, as in a container without SYS_PTRACE."""

    target: str
    sandboxed: bool = False
    description: str = "py-spy without ptrace rights"

    def launch(self, runner_argv, job_dir):
        def become_nobody():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)

        return LaunchSpec(argv=[self.target, "2"], preexec_fn=become_nobody)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run py-spy as another user")
def test_a_profiler_without_ptrace_permission(job_dir):
    with tempfile.TemporaryDirectory() as private:
        os.chmod(private, 0o755)
        target = Path(private) / "unreadable-sleep"
        shutil.copy("/bin/sleep", target)
        os.chmod(target, 0o711)  # executable but not readable by nobody: the process is not dumpable
        result = run_script(
            SCRIPTS / "busy.py", RunOptions(), job_dir, launcher=UnprivilegedLauncher(str(target))
        )
    assert "Permission Denied" in result.profiler_log
    assert (result.outcome.status, result.outcome.reason) == ("error", "ptrace_denied")
    assert result.outcome.message.startswith(
        "The profiler was not allowed to read the script's memory (ptrace permission denied)"
    )
    assert "--cap-add SYS_PTRACE" in result.outcome.message
    assert "kernel.yama.ptrace_scope" in result.outcome.message


def _gone_within(process: psutil.Process, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except psutil.TimeoutExpired:
        return process.status() == psutil.STATUS_ZOMBIE
    return True
