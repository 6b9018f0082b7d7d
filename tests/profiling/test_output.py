"""What the script sees when it starts, and what is kept of what it prints."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from webapp.profiling import RUN_TOKEN_ENV, RunOptions, tail

from .helpers import SCRIPTS, TEST_LIMITS

CAP_BYTES = 1_000_000


def test_the_script_starts_as_if_run_with_python_directly(run, job_dir):
    result = run("context.py", RunOptions(args=["--size", "two words"]))
    seen = json.loads(result.stdout_path.read_text())
    script = str(SCRIPTS / "context.py")
    assert seen["argv"] == [script, "--size", "two words"]
    assert seen["name"] == "__main__" and seen["main_is_this_module"]
    assert seen["file"] == script == result.script_path
    assert seen["path0"] == str(SCRIPTS)
    assert seen["cwd"] == str(job_dir)
    assert seen["stdin"] == ""


def test_the_worker_environment_does_not_reach_the_script(run, monkeypatch):
    monkeypatch.setenv("FLAMEDECK_SECRET_KEY", "do-not-leak")
    result = run("context.py")
    names = json.loads(result.stdout_path.read_text())["environ"]
    assert "FLAMEDECK_SECRET_KEY" not in names
    assert {"PATH", "HOME", RUN_TOKEN_ENV} <= set(names)


def test_output_past_the_cap_is_dropped_and_the_file_says_so(run):
    limits = replace(TEST_LIMITS, max_output_bytes=CAP_BYTES)
    result = run("chatty.py", RunOptions(args=["50"]), limits=limits)
    assert result.outcome.status == "finished", result.outcome
    size = result.stdout_path.stat().st_size
    assert CAP_BYTES <= size < CAP_BYTES + 200
    assert result.stdout_dropped_bytes == 50 * 1024 * 1024 - CAP_BYTES
    ending = tail(result.stdout_path, 200)
    assert ending.endswith(
        f"[flamedeck: output truncated - kept the first {CAP_BYTES} bytes, dropped {50 * 1024 * 1024 - CAP_BYTES} more]\n"
    )
    assert result.stderr_path.read_text() == "chatty finished\n"
    assert result.stderr_dropped_bytes == 0


def test_tail_returns_whole_last_lines(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("".join(f"line {number}\n" for number in range(1000)))
    assert tail(path, 30) == "line 997\nline 998\nline 999\n"
    assert tail(path, 10**6).startswith("line 0\n")
    assert tail(tmp_path / "missing.txt", 100) == ""


def test_tail_survives_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"ok\n\xff\xfe broken\n")
    assert tail(path, 100) == "ok\n\ufffd\ufffd broken\n"


def test_a_job_dir_is_created_and_holds_the_output_files(run, job_dir):
    assert not job_dir.exists()
    result = run("busy.py")
    assert result.stdout_path.parent == job_dir and result.stderr_path.parent == job_dir
    assert sorted(os.listdir(job_dir)) == sorted(
        ["py-spy.log", "py-spy.speedscope.json", "run-status.json", "stderr.txt", "stdout.txt"]
    )
