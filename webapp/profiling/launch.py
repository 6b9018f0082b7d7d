"""The sandbox seam: how the command py-spy spawns is wrapped before it runs.

py-spy is always the runner's parent, so that it sees the script's threads as the
kernel numbers them in the script's own pid namespace (from any other namespace it
cannot tell waiting threads from running ones, unwind native stacks or read thread
names). py-spy spawns whatever argv a ``Launcher`` returns. ``DirectLauncher`` runs
the runner as is, with modest rlimits; a launcher that confines without namespaces
wraps the runner argv; the bubblewrap launcher also puts py-spy itself inside the
sandbox (``ProfilerInside``).

What a launcher must preserve (the recording relies on it):
* the runner argv, in order, at the end of the returned argv;
* ``RUNNER_PATH`` and the script visible at the same paths inside (frames are
  recognised by file name); the job dir need not be visible (a sandbox should hide it);
* py-spy the runner's parent, in the runner's pid namespace (``ProfilerInside``
  where the launcher creates one);
* inherited file descriptors (the runner argv names three pipe fds; bwrap keeps them);
* the environment variable ``RUN_TOKEN_ENV`` (leftover processes are found by it).
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class LaunchSpec:
    """What py-spy should spawn, plus optional set-up applied to py-spy's own process.

    ``preexec_fn`` runs in py-spy's process just before it starts (so it also
    applies to py-spy, and is inherited by the script); ``env`` entries are added to
    py-spy's environment, which the script inherits.
    """

    argv: list[str]
    preexec_fn: Callable[[], None] | None = None
    env: dict[str, str] | None = None
    # Called once after the run, when every process of it is gone (e.g. removes the job's cgroup).
    cleanup: Callable[[], None] | None = None
    # None: py-spy is started directly. Else it runs inside the sandbox this describes.
    profiler_inside: ProfilerInside | None = None


@dataclass(frozen=True)
class ProfilerInside:
    """py-spy runs inside the sandbox, as the runner's parent.

    The worker starts ``[*prefix, pyspy, "record", ..., "--output", profile_path,
    "--", *argv]``. Once py-spy has attached, and before the script is let go, the
    worker finds py-spy and the runner by their host pids (see
    ``processes.find_profiled``) and calls ``confine_script(runner_pid)``, which puts
    the runner under the limits py-spy must not share (a cgroup's CPU and memory caps).
    """

    prefix: list[str]  # the sandbox command, ending where py-spy's own command line starts
    pyspy: str  # py-spy's path inside the sandbox
    profile_path: str  # where py-spy writes its file, inside (the job's profile file, bound)
    confine_script: Callable[[int], None] | None = None


class Launcher(Protocol):
    """Turns the runner command line into the command line py-spy spawns."""

    sandboxed: bool  # False: pages must say the script ran without a sandbox
    description: str  # one sentence for pages and logs, e.g. "rlimits only, no sandbox"

    def launch(self, runner_argv: list[str], job_dir: Path, workdir: Path | None = None) -> LaunchSpec:
        """Return the command for py-spy to spawn for this job; ``workdir``, when given, is
        the script's working directory (a project's files, to be visible read-only)."""
        ...


@dataclass(frozen=True)
class DirectLauncher:
    """No sandbox: run the runner directly, with rlimits that are also safe for py-spy.

    The limits are set on py-spy's process and inherited by the script, so they must
    not hurt py-spy: no address-space or CPU limit (a multi-threaded script may use
    more CPU seconds than wall seconds; the wall clock is enforced by the recording),
    and no process-count limit (RLIMIT_NPROC counts every process of the user).
    ``max_file_bytes`` also bounds py-spy's profile file; beyond it the writer gets SIGXFSZ.
    """

    max_file_bytes: int = 2 * 1024**3
    max_open_files: int = 1024
    max_core_bytes: int = 0
    sandboxed: bool = False
    description: str = "The script ran without a sandbox (resource limits only)."

    def launch(self, runner_argv: list[str], job_dir: Path, workdir: Path | None = None,
               coverage=None) -> LaunchSpec:
        """Return the runner argv unchanged, with rlimits applied before py-spy starts.

        ``coverage`` (a ``coverage_run.CoverageFiles``): tell the runner where coverage.py and its report file are."""
        limits = {
            resource.RLIMIT_FSIZE: self.max_file_bytes,
            resource.RLIMIT_NOFILE: self.max_open_files,
            resource.RLIMIT_CORE: self.max_core_bytes,
        }
        env = None
        if coverage is not None:
            from .runner import COVERAGE_LIB_ENV, COVERAGE_OUT_ENV

            env = {COVERAGE_OUT_ENV: str(coverage.out_file), COVERAGE_LIB_ENV: str(coverage.lib_dir)}
        return LaunchSpec(argv=list(runner_argv), preexec_fn=lambda: _lower_limits(limits), env=env)


def _lower_limits(limits: dict[int, int]) -> None:
    """Lower soft and hard limits, never raising one above what the worker already has."""
    for which, wanted in limits.items():
        soft, hard = resource.getrlimit(which)
        new_hard = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        new_soft = new_hard if soft == resource.RLIM_INFINITY else min(soft, new_hard)
        resource.setrlimit(which, (new_soft, new_hard))
