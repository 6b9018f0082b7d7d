"""Hostile scripts, each run through run_script inside the bubblewrap sandbox.

For each: the run ends with a clear outcome, what the script tried did not reach
the server, nothing of the job is left running, and a normal job right after
still succeeds.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from webapp.profiles.importers import load_profile
from webapp.profiling.outcome import ERROR, FINISHED, RAISED, TIME_LIMIT

from .conftest import RUN_LIMITS, TEST_SANDBOX, assert_nothing_left

GIB = 1024**3
# What a job may leave in its directory: two capped output files, py-spy's profile and log.
JOB_DIR_CAP_BYTES = 2 * RUN_LIMITS.max_output_bytes + 4 * 1024 * 1024
DISK_NOISE_BYTES = GIB  # other processes write too; a 10 GB escape would still show


def _clear_outcome(run) -> None:
    outcome = run.result.outcome
    assert outcome.message.endswith((".", ")")), outcome
    assert outcome.status != ERROR, outcome  # the profiler itself did not fail


def test_fork_bomb_hits_the_process_cap(run_hostile, normal_job_succeeds):
    run = run_hostile("fork_bomb.py", duration_s=4)
    _clear_outcome(run)
    refused = [line for line in run.output().splitlines() if line.startswith("fork refused after")]
    assert refused, run.output()
    assert max(int(line.split()[3].rstrip(":")) for line in refused) < TEST_SANDBOX.processes
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_allocating_20_gb_is_refused(run_hostile, normal_job_succeeds):
    run = run_hostile("allocate_20gb.py")
    assert run.result.outcome.status == RAISED, run.result.outcome
    assert "MemoryError" in run.result.outcome.message
    assert "allocated 20 GB" not in run.output()
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_writing_10_gb_stays_within_the_caps(run_hostile, normal_job_succeeds, jobs_root, other_report):
    free_before = shutil.disk_usage(jobs_root).free
    run = run_hostile("write_10gb.py", str(jobs_root), "/work", "/", str(other_report[0]))
    _clear_outcome(run)
    output = run.output()
    assert "wrote 10 GB" not in output
    stopped = {line.split(":")[0]: int(line.split()[3]) for line in output.splitlines() if "stopped after" in line}
    assert stopped["/tmp"] <= TEST_SANDBOX.file_bytes  # the working directory is /tmp
    assert stopped["/dev/shm"] <= TEST_SANDBOX.shm_bytes
    assert stopped["/"] == 0 and stopped["/work"] == 0  # read-only
    # The host's job area is not there: under /tmp it is part of the sandbox's own capped /tmp.
    assert stopped[str(jobs_root)] <= TEST_SANDBOX.file_bytes
    assert run.disk_bytes() <= JOB_DIR_CAP_BYTES
    assert free_before - shutil.disk_usage(jobs_root).free < DISK_NOISE_BYTES
    assert not list(jobs_root.rglob("big.bin"))
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_filling_dev_shm_stops_at_its_size(run_hostile, normal_job_succeeds):
    run = run_hostile("fill_shm.py")
    _clear_outcome(run)
    line = next(line for line in run.output().splitlines() if line.startswith("/dev/shm full after"))
    assert 0 < int(line.split()[3]) <= TEST_SANDBOX.shm_bytes
    assert "No space left on device" in line
    normal_job_succeeds()


def test_cpu_loop_is_killed_at_the_cpu_limit(run_hostile, normal_job_succeeds):
    run = run_hostile("cpu_loop.py", duration_s=8)
    outcome = run.result.outcome
    assert outcome.reason == "unreported_exit", outcome  # killed by SIGXCPU, no status written
    assert run.result.elapsed_s < 8 - 1, "the CPU limit, not the time limit, should have ended it"
    assert run.result.profile_path is not None  # the seconds before the kill are profiled
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_sleeping_forever_ends_at_the_time_limit(run_hostile, normal_job_succeeds):
    run = run_hostile("sleep_forever.py", duration_s=2, idle=True)
    assert run.result.outcome.status == TIME_LIMIT, run.result.outcome
    assert run.result.elapsed_s < 2 + RUN_LIMITS.grace_s
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


@pytest.fixture
def server_secrets(jobs_root: Path, monkeypatch):
    """A fake data directory (database, secret key) readable by anyone, and a secret in the worker's env."""
    data_dir = jobs_root / f"data-{secrets.token_hex(4)}"
    data_dir.mkdir(mode=0o755)
    found = {name: f"SECRET-{name}-{secrets.token_hex(8)}" for name in ("database", "key", "env")}
    (data_dir / "flamedeck.db").write_text(f"SQLite format 3 {found['database']}")
    (data_dir / "secret_key").write_text(found["key"])
    for path in data_dir.iterdir():
        path.chmod(0o644)
    monkeypatch.setenv("FLAMEDECK_SECRET_KEY", found["env"])
    return data_dir, found


def test_server_secrets_are_out_of_reach(run_hostile, normal_job_succeeds, server_secrets, other_report):
    data_dir, found = server_secrets
    found["other report"] = other_report[1].decode()
    app_dir = Path(__file__).resolve().parents[2]
    run = run_hostile("read_secrets.py", str(data_dir / "flamedeck.db"), str(data_dir / "secret_key"),
                      str(data_dir), str(app_dir), str(app_dir / "pyproject.toml"),
                      str(other_report[0] / "profile.speedscope.json"))
    _clear_outcome(run)
    output = run.output()
    for path in ("/etc/shadow", "/etc/passwd", str(data_dir), str(app_dir / "pyproject.toml")):
        assert f"{path}: refused" in output, output
    everything = run.every_file_bytes()
    for secret in found.values():
        assert secret.encode() not in everything
    visible = output.split("visible root: ", 1)[1].splitlines()[0]
    assert "'etc'" not in visible and "'root'" not in visible and "'home'" not in visible
    normal_job_succeeds()


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[tuple] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except OSError:
                continue
            accepted.append(peer)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_network_is_unreachable(run_hostile, normal_job_succeeds, listener):
    port, accepted = listener
    run = run_hostile("connect_listener.py", str(port))
    _clear_outcome(run)
    assert "connection refused" in run.output()
    assert "connected" not in run.output().replace("connection refused", "")
    assert accepted == []
    normal_job_succeeds()


@pytest.fixture
def canary(sandbox):
    """A process outside the sandbox, running as the sandbox user: what kill(-1) would hit."""
    user = sandbox.user
    preexec = None
    if user is not None:
        def preexec() -> None:
            os.setgid(user.gid)
            os.setuid(user.uid)
    process = subprocess.Popen(["sleep", "60"], preexec_fn=preexec)
    yield process
    process.kill()
    process.wait()


def test_killing_parent_and_everyone_hurts_nothing_outside(run_hostile, normal_job_succeeds, canary):
    run = run_hostile("kill_parent.py")
    _clear_outcome(run)
    assert canary.poll() is None, "a process outside the sandbox was killed"
    assert run.result.profile_path is not None or run.result.outcome.reason == "not_attached"
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_daemon_does_not_outlive_the_job(run_hostile, normal_job_succeeds):
    marker = f"{4000 + secrets.randbelow(1000)}.{secrets.randbelow(10**6)}"  # "sleep <marker>" seconds
    run = run_hostile("daemon.py", marker, duration_s=8)
    _clear_outcome(run)
    assert "daemon started" in run.output(), (run.result.outcome, run.result.profiler_log)
    assert_nothing_left(str(run.job_dir), f"sleep {marker}")
    normal_job_succeeds()


def test_printing_1_gb_is_capped(run_hostile, normal_job_succeeds):
    run = run_hostile("print_1gb.py", duration_s=3)
    _clear_outcome(run)
    assert run.result.stdout_dropped_bytes > 0
    assert run.result.stdout_path.stat().st_size <= RUN_LIMITS.max_output_bytes + 1000  # plus the note
    assert run.disk_bytes() <= JOB_DIR_CAP_BYTES
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_ptrace_is_denied(run_hostile, normal_job_succeeds):
    run = run_hostile("ptrace_other.py")
    _clear_outcome(run)
    output = run.output()
    attempts = [line for line in output.splitlines() if line.startswith("ptrace attach")]
    assert len(attempts) == 3 and all("refused: Operation not permitted" in line for line in attempts), output
    assert "read parent memory" not in output
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_py_spy_inside_the_sandbox_is_out_of_the_scripts_reach(run_hostile, normal_job_succeeds):
    run = run_hostile("attack_profiler.py", duration_s=5)
    output = run.output()
    assert "parent is py-spy" in output, output
    for name in ("mem", "environ", "maps", "fd", "cwd/."):
        assert f"{name} refused: Permission denied" in output, output
    # SIGSTOP, SIGTERM and SIGKILL from inside never reach the pid namespace's first process:
    # py-spy keeps sampling, and what it writes at the end replaces what the script wrote.
    assert "still sampled" in output, output
    assert run.result.outcome.status == FINISHED, run.result.outcome
    profile = load_profile(run.result.profile_path.read_bytes(), run.result.profile_path.name)
    assert profile.sample_count > 0
    assert_nothing_left(str(run.job_dir))
    normal_job_succeeds()


def test_normal_job_is_profiled_without_host_paths(run_hostile):
    run = run_hostile("normal.py", duration_s=5)
    assert run.result.outcome.status == FINISHED, run.result.outcome
    assert run.result.sandboxed
    profile = load_profile(run.result.profile_path.read_bytes(), run.result.profile_path.name)
    names = [frame.name for frame in profile.frames]
    assert "crunch" in names
    assert not [name for name in names if name.startswith("process ")]  # py-spy's synthetic frames
    files = {frame.file for frame in profile.frames}
    assert not [path for path in files if "bwrap" in path or path.startswith("/bin/sh")]
