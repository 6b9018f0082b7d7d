"""A run ends on time, on request, or when the worker dies - and leaves nothing running."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import psutil

from webapp.profiling import RunOptions

from .helpers import SCRIPTS, TEST_LIMITS, load_profile, pid_alive, script_samples

WAIT_FOR_PID_S = 10.0


def test_the_time_limit_stops_a_script_that_ignores_signals_and_keeps_the_profile(run, job_dir):
    result = run("stubborn.py", RunOptions(duration_s=1))
    assert (result.outcome.status, result.outcome.reason) == ("time_limit", "time_limit")
    assert result.outcome.message == (
        "The script was still running when the 1 s time limit was reached, so it was stopped and "
        "the profile of those 1 s was kept. Choose a longer duration to profile more of it."
    )
    assert 1.0 <= result.elapsed_s < 1.0 + TEST_LIMITS.grace_s
    assert load_profile(result)["profiles"], "the partial profile holds no thread"
    assert script_samples(result) > 20
    assert not pid_alive(int((job_dir / "stubborn.pid").read_text()))


def test_a_cancelled_run_stops_early_and_keeps_the_partial_profile(run, job_dir):
    started = time.monotonic()

    def cancel_after_half_a_second():
        return time.monotonic() - started > 0.5

    result = run("stubborn.py", RunOptions(duration_s=10), should_stop=cancel_after_half_a_second)
    assert (result.outcome.status, result.outcome.reason) == ("cancelled", "cancelled")
    assert result.outcome.message == "The run was cancelled; the partial profile was kept."
    assert result.elapsed_s < 2.0
    assert script_samples(result) > 5
    assert not pid_alive(int((job_dir / "stubborn.pid").read_text()))


def test_progress_is_reported_about_every_poll_interval(run):
    calls: list[tuple[float, float]] = []
    run("busy.py", RunOptions(duration_s=5, args=["1.0"]), on_progress=lambda s: calls.append((time.monotonic(), s)))
    reported = [elapsed for _, elapsed in calls]
    assert 4 <= len(calls) <= 9, reported
    assert reported == sorted(reported) and 0 <= reported[0] < 0.2 and 0.8 < reported[-1] <= 5
    gaps = [later - earlier for (earlier, _), (later, _) in zip(calls, calls[1:])]
    assert all(0.15 <= gap <= 0.4 for gap in gaps), gaps


def test_a_profiler_that_does_not_stop_within_the_grace_period_is_killed(run, job_dir):
    """py-spy frozen with SIGSTOP cannot act on SIGINT: after grace_s its group is killed."""
    frozen = []

    def freeze_py_spy(elapsed_s):
        if elapsed_s > 0.5 and not frozen:
            (py_spy,) = [p for p in psutil.Process().children() if p.name() == "py-spy"]
            py_spy.send_signal(signal.SIGSTOP)
            frozen.append(py_spy)

    limits = replace(TEST_LIMITS, grace_s=0.5)
    result = run("stubborn.py", RunOptions(duration_s=1), limits=limits, on_progress=freeze_py_spy)
    assert (result.outcome.status, result.outcome.reason) == ("error", "profiler_timeout")
    assert result.outcome.message.startswith(
        "The profiler did not finish writing its file within 0.5 s of being asked to stop"
    )
    assert 1.5 <= result.elapsed_s < 3.0
    assert result.profile_path is None
    assert not pid_alive(int((job_dir / "stubborn.pid").read_text()))


def test_a_double_forked_daemon_in_its_own_session_does_not_outlive_the_run(run, job_dir):
    result = run("daemon.py")
    assert result.outcome.status == "finished", result.outcome
    daemon = int((job_dir / "daemon.pid").read_text())
    assert not pid_alive(daemon), "the daemon is still running after run_script returned"


def test_a_child_left_running_in_the_same_group_is_killed(run, job_dir):
    result = run("leaves_child.py")
    assert result.outcome.status == "finished", result.outcome
    assert not pid_alive(int((job_dir / "child.pid").read_text()))


WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from webapp.profiling import RunOptions, run_script

    run_script(Path(sys.argv[1]), RunOptions(duration_s=30), Path(sys.argv[2]))
    """
)


def test_py_spy_and_the_script_die_with_a_killed_worker(job_dir):
    """The worker dies without any clean-up: PR_SET_PDEATHSIG takes py-spy, then the runner, down."""
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(SCRIPTS / "stubborn.py"), str(job_dir)])
    try:
        script_pid = _wait_for_pid_file(job_dir / "stubborn.pid")
        spawned = psutil.Process(worker.pid).children(recursive=True)
        assert script_pid in {process.pid for process in spawned}
    finally:
        worker.kill()
        worker.wait()
    survivors = _alive_after(spawned, seconds=3.0)
    assert not survivors, f"outlived their worker: {[' '.join(p.cmdline()) for p in survivors]}"


def _wait_for_pid_file(path) -> int:
    deadline = time.monotonic() + WAIT_FOR_PID_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)
    time.sleep(0.05)  # the file is written in one call; give it a moment to be complete
    return int(path.read_text())


def _alive_after(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while True:
        alive = [p for p in processes if pid_alive(p.pid)]
        if not alive or time.monotonic() > deadline:
            for process in alive:
                process.kill()
            return alive
        time.sleep(0.05)
