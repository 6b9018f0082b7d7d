"""The runner's status channel: a start gate that holds the script back until py-spy has
attached (so its first milliseconds are profiled too), then the runner's status lines.

py-spy spawns the runner, then tries for about 0.4 s to attach to it. A short script
could end before that, and on a loaded machine the interpreter can take longer than
that to start, so py-spy gives up ("Failed to find python version"). With the gate,
the runner waits before running the script until the worker, having seen py-spy
report that it samples, lets it go. If py-spy gives up, the script never ran, so
the run can safely be tried again.

The gate shares the runner's status channel (a socket pair instead of a pipe), so the
runner's command line stays as it was: the runner reads one byte from its status fd,
then writes its status lines there.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

# What py-spy 0.4.3 prints once it has attached (before, it prints nothing to stdout).
ATTACHED_LINE = b"py-spy> Sampling process"
GO = b"g"


class StartGate:
    """A socket pair: the runner's end goes to the runner, the worker reads status lines and opens the gate."""

    def __init__(self) -> None:
        worker_end, runner_end = socket.socketpair()
        self.runner_fd = runner_end.detach()
        self._worker_fd = worker_end.detach()
        self.opened_at: float | None = None

    def status_reader(self) -> int:
        """A descriptor to read the runner's status lines from (the caller owns it)."""
        return os.dup(self._worker_fd)

    def ready(self, log_path: Path, waited_s: float, timeout_s: float) -> bool:
        """True once py-spy says it samples (or ``timeout_s`` has passed) and the gate is still closed."""
        return self.opened_at is None and (waited_s >= timeout_s or _attached(log_path))

    def open(self, now: float) -> None:
        """Let the script start."""
        try:
            os.write(self._worker_fd, GO)
        except OSError:
            pass  # the runner is gone already; py-spy's exit will end the run
        self.opened_at = now

    def close(self) -> None:
        """Close the worker's end (the runner's end is closed once py-spy has it)."""
        os.close(self._worker_fd)


def _attached(log_path: Path) -> bool:
    try:
        return ATTACHED_LINE in log_path.read_bytes()
    except OSError:
        return False


def read_status(path: Path) -> tuple[bool, dict | None]:
    """From the runner's status lines: did the script start, and its final record if any."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False, None
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line cut by the size cap, or written by a misbehaving script
    records = [record for record in records if isinstance(record, dict)]
    started = any(record.get("kind") == "started" for record in records)
    endings = [
        record
        for record in records
        if record.get("kind") in ("exited", "raised") and isinstance(record.get("exit_code"), int)
    ]
    return started or bool(endings), (endings[-1] if endings else None)
