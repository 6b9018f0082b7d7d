"""The bubblewrap launcher: the script runs in its own namespaces on a minimal read-only root.

py-spy stays outside as the parent (unprivileged); it spawns::

    sh (join the job's cgroup, open the seccomp fd, clear the environment)
      -> bwrap --unshare-all ... (new user, pid, net, ipc, uts, cgroup namespaces)
        -> prlimit (per-process rlimits) -> python runner.py ... script

and follows the script with ``--subprocesses`` (it samples across the pid
namespace). Inside: ``/usr`` and the interpreter's prefix read-only, the runner
and the script read-only at their own paths (so profile frames name them as
usual), ``/proc`` of the new pid namespace, a read-only ``/dev`` with a
size-capped ``/dev/shm``, a size-capped ``/tmp`` as working directory, and
everything else read-only.
Nothing else of the host: not ``/etc``, not the app, not the data directory,
not even the job directory. When the first process of the pid namespace ends,
the kernel kills every other one, so nothing a job starts outlives it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from .confinement import SECCOMP_FD, JobConfinement, ServiceUser, rlimit_command, script_of, script_python
from .launch import LaunchSpec
from .runner import RUNNER_PATH
from .sandbox_settings import SandboxLimits
from .seccomp_filter import build_filter

SANDBOX_HOSTNAME = "sandbox"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
# Top-level names that are symlinks into /usr on merged-/usr systems, or real directories on older ones.
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass
class BwrapLauncher:
    """Runs each script inside bubblewrap, as ``user`` when the worker is root (see module doc)."""

    limits: SandboxLimits = field(default_factory=SandboxLimits)
    user: ServiceUser | None = None
    python: str = ""  # the interpreter to pass to run_script; empty: see script_python()
    bwrap: str = field(default_factory=lambda: shutil.which("bwrap") or "/usr/bin/bwrap")
    sandboxed: bool = True
    description: str = (
        "The script ran in a bubblewrap sandbox: no network, none of the server's files, "
        "and capped memory, processes, CPU time and disk."
    )

    def __post_init__(self) -> None:
        self.python = self.python or script_python(self.limits, self.user)
        self.seccomp_program = build_filter()

    def launch(self, runner_argv: list[str], job_dir: Path) -> LaunchSpec:
        """Wrap the runner command line in the sandbox; the spec's cleanup removes the job's cgroup."""
        script = script_of(runner_argv)
        confinement = JobConfinement(self.limits, self.user, Path(job_dir), runner_argv[0])
        confinement.hand_over_script(script)
        spec = self.spec(runner_argv, confinement, extra_files=[RUNNER_PATH, script])
        return replace(spec, env=confinement.profiler_env())

    def spec(self, command: list[str], confinement: JobConfinement, extra_files: list[str]) -> LaunchSpec:
        """The launch spec for any command (the self-test uses it without the runner)."""
        seccomp = confinement.write_seccomp(self.seccomp_program) if self.seccomp_program else ""
        inner = [self.bwrap, *self.bwrap_args(command[0], extra_files, seccomp=bool(seccomp)), "--",
                 *rlimit_command(self.limits), *command]
        return LaunchSpec(
            argv=confinement.wrap(inner, seccomp=seccomp, clear_env=True),
            preexec_fn=confinement.preexec,
            needs_subprocesses=True,
            cleanup=confinement.cleanup,
        )

    def bwrap_args(self, python: str, extra_files: list[str], *, seccomp: bool) -> list[str]:
        """bwrap's options: namespaces, environment, file system, seccomp."""
        args = [
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--hostname", SANDBOX_HOSTNAME,
            "--setenv", "PATH", SANDBOX_PATH, "--setenv", "HOME", "/tmp",
            "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8",
            *_root_args(),
            # /tmp first: files bound below may live under the host's /tmp.
            "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",
            *_python_args(python),
        ]
        for path in extra_files:
            args += ["--ro-bind", path, path]
        args += [
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(self.limits.shm_bytes), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",  # not recursive: /dev/shm stays writable, within its size
            "--remount-ro", "/",  # bwrap's root is an uncapped tmpfs: only /tmp and /dev/shm stay writable
            "--chdir", "/tmp",
        ]
        if seccomp:
            args += ["--seccomp", str(SECCOMP_FD)]
        return args


def _root_args() -> list[str]:
    """``/usr`` read-only, and /bin, /lib ... as the host has them (symlinks into /usr, or directories)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ROOT_LINKS:
        host = f"/{name}"
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    return args


def _python_args(python: str) -> list[str]:
    """Make ``python`` runnable inside: bind its installation prefix, recreate the path it is called by."""
    real = os.path.realpath(python)
    bound = ["/usr"]
    prefix = os.path.dirname(os.path.dirname(real))
    if not _inside(prefix, bound) and prefix != "/":
        bound.append(prefix)
    args = ["--ro-bind", prefix, prefix] if len(bound) > 1 else []
    if os.path.isabs(python) and not _inside(python, bound):  # e.g. a venv's bin/python symlink
        args += ["--symlink", real, python]
    return args


def _inside(path: str, trees: list[str]) -> bool:
    return any(path == tree or path.startswith(tree + "/") for tree in trees)
