"""Processes laid out as on separate machines: a gunicorn web process and worker processes,
each started on its own with its own working directory (and, in distributed mode, its own
data directory: they share nothing but PostgreSQL and Redis).

In embedded mode the "machines" are processes of one machine: SQLite lives in the data
directory, so they all use the same one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .live import STOP_TIMEOUT_S, environment, free_port, serve_command, wait_for_port

WEB_PROCESSES = 2  # gunicorn workers of the web process, as in the Procfile's default


@dataclass
class Machine:
    """Where one process runs: its working directory, its data directory, its log."""

    name: str
    workdir: Path
    data_dir: Path

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"


class Cluster:
    """Starts and stops the web and worker processes of one test; kills what is left at the end."""

    def __init__(self, base: Path, backend: dict, *, fast: bool = True, **settings):
        self.base = base
        self.settings = backend | settings
        self.fast = fast  # FAST_LIFECYCLE timings (see live.py), else the defaults an operator gets
        self.shared_data_dir = None if backend else base / "data"  # embedded: one data dir for all
        self.port = free_port()
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def machine(self, name: str) -> Machine:
        workdir = self.base / name
        workdir.mkdir(exist_ok=True)
        workdir.chmod(0o711)  # the sandbox user traverses it to reach the jobs in the data directory
        return Machine(name, workdir, self.shared_data_dir or workdir / "data")

    def start_web(self, name: str = "web") -> subprocess.Popen:
        """gunicorn serving the app (the Procfile's web process); returns once it accepts connections."""
        from webapp.serve import gunicorn_command

        machine = self.machine(name)
        config = {"WEB_PROCESSES": WEB_PROCESSES, "WEB_THREADS": 4, "WEB_TIMEOUT_S": 30, "SHUTDOWN_GRACE_S": 5}
        process = self._start(machine, gunicorn_command("127.0.0.1", self.port, config))
        wait_for_port(self.port)
        wait_until(self._answers, timeout_s=20, what="the web process answering")  # its workers booted
        return process

    def _answers(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url + "/", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def start_serve(self, name: str = "serve", workers: int = 2) -> subprocess.Popen:
        """`flamedeck serve`: the web server and a job worker of its own, as one machine runs them."""
        process = self._start(self.machine(name), serve_command(self.port, workers))
        wait_for_port(self.port)
        wait_until(self._answers, timeout_s=20, what="flamedeck serve answering")
        return process

    def start_worker(self, name: str, workers: int = 1) -> subprocess.Popen:
        """A `flamedeck worker` process running ``workers`` jobs at a time."""
        return self._start(self.machine(name), [sys.executable, "-m", "webapp.worker", "--workers", str(workers)])

    def data_dir(self, name: str) -> Path:
        return self.machine(name).data_dir

    def _start(self, machine: Machine, command: list[str]) -> subprocess.Popen:
        with open(machine.log, "ab") as log:
            # A session of its own, so that kill_hard can take the process and its children at once.
            process = subprocess.Popen(command, cwd=machine.workdir, env=environment(machine.data_dir, fast=self.fast, **self.settings),
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        """Stop everything at once with SIGTERM, as systemd or a Procfile runner does."""
        living = [process for process in self.processes if process.poll() is None]
        for process in living:
            process.send_signal(signal.SIGTERM)
        for process in living:
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                kill_hard(process)
                raise AssertionError(f"{process.args} did not stop within {STOP_TIMEOUT_S} s") from None

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                kill_hard(process)


def kill_hard(process: subprocess.Popen) -> None:
    """kill -9 the process and everything in its session (gunicorn's workers, a worker's jobs)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def logs(cluster: Cluster) -> str:
    """Every process log of the cluster, for a failing assertion's message."""
    parts = []
    for path in sorted(cluster.base.glob("*/*.log")):
        parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
    return "\n".join(parts)


def wait_until(predicate, timeout_s: float, poll_s: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout_s} s")
        time.sleep(poll_s)
