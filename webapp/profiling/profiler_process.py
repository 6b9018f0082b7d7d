"""py-spy as the worker reaches it: the process it started, or py-spy inside a sandbox.

Started directly, py-spy is the worker's child. Inside the bubblewrap sandbox it is
the first process of the sandbox's pid namespace, a grandchild the worker finds by
host pid once py-spy has attached (before the script is let go, so nothing the
script does can stand in for it).
"""

from __future__ import annotations

import os
import signal
import subprocess

from .launch import ProfilerInside
from .processes import find_profiled, kill_group


class ProfilerProcess:
    """Stop py-spy so that it writes its file, and confine the script it spawned."""

    def __init__(self, process: subprocess.Popen, inside: ProfilerInside | None):
        self.process = process
        self.inside = inside
        self.pid: int | None = None if inside else process.pid  # None: not found yet

    @property
    def repeats_interrupt(self) -> bool:
        """True when an interrupt may be lost and must be sent again (see ``interrupt``)."""
        return self.inside is not None

    def confine_script(self) -> str | None:
        """Find py-spy and the runner, and put the runner under the limits py-spy must not
        share; None when done (or nothing to do), else what went wrong."""
        if self.inside is None:
            return None
        found = find_profiled(self.process.pid, os.path.basename(self.inside.pyspy))
        if found is None:
            return "py-spy or the runner was not found in the sandbox's processes"
        self.pid, runner_pid = found
        try:
            if self.inside.confine_script is not None:
                self.inside.confine_script(runner_pid)
        except OSError as error:
            return f"the runner could not be moved into the job's cgroup ({error.strerror or error})"
        return None

    def interrupt(self) -> None:
        """SIGINT py-spy: it writes its file then. Never SIGTERM it.

        py-spy installs its SIGINT handler only after it says it samples (measured: one
        time in three it had none yet right after). Outside a sandbox the signal then
        kills it, as before it attached. Inside, py-spy is the pid namespace's first
        process, to which the kernel delivers only the signals it handles: an early SIGINT
        is dropped, so the caller repeats it until py-spy exits; and with the script not
        started yet there is nothing to write, so the run is simply killed.
        """
        if self.pid is None:
            kill_group(self.process.pid)
            return
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
