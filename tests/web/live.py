"""Helpers for the integration tests: real consumer and server processes, waiting on report rows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from webapp.store import Report

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 20
ENDED = ("done", "failed", "cancelled")
ENDED_TIMEOUT_S = 120  # submit -> ended, for jobs of a few seconds on a busy machine

# Short lifecycle timings so that a killed worker is noticed within seconds.
FAST_LIFECYCLE = {
    "JOB_LEASE_S": 3,
    "HEARTBEAT_INTERVAL_S": 0.5,
    "REAPER_INTERVAL_S": 1,
    "QUEUED_STALE_S": 30,
    "SHUTDOWN_GRACE_S": 10,
}
# These harnesses submit dozens of jobs a minute from one address by design; the rate limits
# have their own tests (test_rate_limits.py). A test's own settings still win.
NO_RATE_LIMITS = {"RATE_LIMIT_PER_MINUTE": 1_000_000, "RATE_LIMIT_PER_HOUR": 1_000_000}
# A coverage run doubles every job that ends on its own; the tests that are about coverage ask for it
# (coverage=on, or COVERAGE_BY_DEFAULT=1), the rest are about the profiled run and keep the suite short.
HARNESS_DEFAULTS = NO_RATE_LIMITS | {"COVERAGE_BY_DEFAULT": False}


def environment(data_dir: Path, *, fast: bool = True, **settings) -> dict[str, str]:
    """The process environment that gives a child process these settings (and FAST_LIFECYCLE if fast)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLAMEDECK_")}
    env["FLAMEDECK_DATA_DIR"] = str(data_dir)
    for name, value in (HARNESS_DEFAULTS | (FAST_LIFECYCLE if fast else {}) | settings).items():
        env[f"FLAMEDECK_{name}"] = str(value)
    return env


def app_config(data_dir: Path, **settings) -> dict:
    """The same settings for an in-process app (submitting jobs, reading rows)."""
    return {"TESTING": True, "DATA_DIR": str(data_dir)} | HARNESS_DEFAULTS | FAST_LIFECYCLE | settings


@contextmanager
def consumer(data_dir: Path, workers: int = 2, **settings):
    """A real `flamedeck worker` process; stopped with SIGINT (or already killed) at the end."""
    process = subprocess.Popen([sys.executable, "-m", "webapp.worker", "--workers", str(workers)],
                               cwd=PROJECT_ROOT, env=environment(data_dir, **settings))
    try:
        yield process
    finally:
        stop(process, signal.SIGINT)


def stop(process: subprocess.Popen, signum: int) -> int:
    """Send a signal and wait; kill if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"process {process.args} did not stop on signal {signum}") from None
    return process.returncode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {timeout_s} s")


def load(store, report_id: int) -> Report:
    with store.reading() as session:
        return session.get(Report, report_id)


def wait_for(store, report_id: int, statuses: tuple[str, ...], timeout_s: float = 30, poll_s: float = 0.05) -> Report:
    """Wait until the report's status is one of ``statuses``; fail with the last state seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        report = load(store, report_id)
        if report.status in statuses:
            return report
        if time.monotonic() > deadline:
            raise AssertionError(f"report {report_id} still {report.status} after {timeout_s} s "
                                 f"(attempts {report.attempts}, outcome {report.outcome})")
        time.sleep(poll_s)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (leftover py-spy or scripts)."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if text in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process.info["pid"])
    return found


def wait_until_ended(base_url: str, token: str, timeout_s: float = ENDED_TIMEOUT_S, poll_s: float = 0.2) -> dict:
    """Poll a report's API document until its job has ended (done, failed or cancelled); return it."""
    deadline = time.monotonic() + timeout_s
    while True:
        status, document = http_json("GET", f"{base_url}/api/v1/reports/{token}")
        assert status == 200, document
        if document["status"] in ENDED:
            return document
        assert time.monotonic() < deadline, f"report {token} still {document['status']}"
        time.sleep(poll_s)


def http_json(method: str, url: str, fields: dict[str, str] | None = None) -> tuple[int, dict]:
    """A request to a live server, form fields sent as multipart like curl -F; JSON back."""
    import json
    import secrets
    import urllib.error
    import urllib.request

    body, headers = None, {}
    if fields is not None:
        boundary = secrets.token_hex(12)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                 for name, value in fields.items()]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def serve_command(port: int, workers: int) -> list[str]:
    """The command line of `flamedeck serve` on 127.0.0.1:port with ``workers`` job threads."""
    return [sys.executable, "-c", "import sys; from webapp.serve import main; sys.exit(main(sys.argv[1:]))",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


@contextmanager
def serve(data_dir: Path, port: int, workers: int = 1, log_path: Path | None = None, fast: bool = True,
          **settings):
    """A real `flamedeck serve` (gunicorn + consumer); yields (process, base URL).

    Its output goes to ``log_path`` when given, else wherever this process's goes."""
    command = serve_command(port, workers)
    log = open(log_path, "wb") if log_path else None
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment(data_dir, fast=fast, **settings),
                               stdout=log, stderr=subprocess.STDOUT if log else None)
    try:
        wait_for_port(port)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop(process, signal.SIGINT)
        if log:
            log.close()


def child_pids(pid: int) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


def alive(pids: list[int]) -> list[int]:
    import psutil

    living = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.append(pid)
        except psutil.NoSuchProcess:
            pass
    return living
