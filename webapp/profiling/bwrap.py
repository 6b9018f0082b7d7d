"""The bubblewrap launcher: py-spy and the script run in their own namespaces on a minimal read-only root.

The worker spawns, as the unprivileged user::

    sh (open the seccomp program for bwrap, clear the environment)
      -> bwrap --unshare-all ... (new user, pid, net, ipc, uts, cgroup namespaces)
        -> py-spy record ... -> prlimit (per-process rlimits) -> python runner.py ... script

py-spy runs inside, as the script's parent, because only from the script's own pid
namespace can it match Python threads to the kernel's (idle detection, native
stacks, thread names): sampled from outside, a sleeping script looked busy. What
that costs and why it is safe (see the README's security model):

* py-spy is not under the ``PROFILER_SYSCALLS`` part of the seccomp filter (it needs
  ptrace); the runner adds that part on itself before the script runs, so the
  script has the full filter and py-spy all but that part;
* py-spy runs from an execute-only copy (``sealed_profiler``), so it is not
  dumpable: the script cannot open its memory or descriptors under ``/proc``;
* py-spy stays in the job cgroup's unlimited leaf (throttling it would lose
  samples); the worker moves the runner into the limited leaf before letting the
  script start (``ProfilerInside.confine_script``);
* py-spy writes its file through one bound file, which the script could write too:
  the profile of a sandboxed run is read as untrusted input, like an upload.

Inside: ``/usr`` and the interpreter's prefix read-only, the runner, the script and
py-spy read-only at their own paths (so profile frames name them as usual), the
profile file, ``/proc`` of the new pid namespace, a read-only ``/dev`` with a
size-capped ``/dev/shm``, a size-capped ``/tmp`` as working directory, and
everything else read-only. Nothing else of the host: not ``/etc``, not the app,
not the data directory, not the job directory. When the first process of the pid
namespace ends, the kernel kills every other one, so nothing a job starts outlives it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .confinement import (
    SCRIPT_SECCOMP_FILE, SECCOMP_FD, JobConfinement, ServiceUser, rlimit_command, script_of, script_python,
)
from .launch import LaunchSpec, ProfilerInside
from .recording import PROFILE_NAME
from .coverage_run import LIB_INSIDE, OUT_INSIDE
from .runner import COVERAGE_LIB_ENV, COVERAGE_OUT_ENV, RUNNER_PATH, SECCOMP_ENV
from .sampler import find_pyspy
from .sandbox_settings import SandboxLimits
from .sealed_profiler import sealed_copy
from .seccomp_filter import build_sandbox_filter, build_script_filter

SANDBOX_HOSTNAME = "sandbox"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
PROFILE_INSIDE = "/run/flamedeck/profile.speedscope.json"
SCRIPT_FILTER_INSIDE = "/run/flamedeck/script-seccomp.bpf"
# Top-level names that are symlinks into /usr on merged-/usr systems, or real directories on older ones.
# A file at the top of a script environment (see webapp.environments): its venv may be bound.
SCRIPT_ENV_MARKER = "flamedeck-script-environment"
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass
class BwrapLauncher:
    """Runs py-spy and each script inside bubblewrap, as ``user`` when the worker is root (see module doc)."""

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
        self.sandbox_filter = build_sandbox_filter()
        self.script_filter = build_script_filter()

    def launch(self, runner_argv: list[str], job_dir: Path, workdir: Path | None = None,
               coverage=None) -> LaunchSpec:
        """py-spy and the runner inside the sandbox; the spec's cleanup removes the job's cgroup.

        ``workdir`` (a project's files) is bound read-only at its own path and is where the
        script starts, so ``open("data/input.csv")`` and local imports find the project's files."""
        script = script_of(runner_argv)
        pyspy = sealed_copy(find_pyspy() or "py-spy")  # made once per worker process, on first use
        confinement = JobConfinement(self.limits, self.user, Path(job_dir), runner_argv[0])
        confinement.hand_over_script(script)
        writable = {str(Path(job_dir) / PROFILE_NAME): PROFILE_INSIDE}
        extra: list[str] = []
        if coverage is not None:
            # coverage.py alone (read-only) and its report file: see coverage_run.
            if self.user is not None:
                os.chown(coverage.out_file, self.user.uid, self.user.gid)
            writable[str(coverage.out_file)] = OUT_INSIDE
            extra = ["--ro-bind", str(coverage.lib_dir), LIB_INSIDE,
                     "--setenv", COVERAGE_OUT_ENV, OUT_INSIDE, "--setenv", COVERAGE_LIB_ENV, LIB_INSIDE]
        prefix = self.sandbox_command(
            confinement, runner_argv[0], [RUNNER_PATH, script, pyspy],
            writable=writable, workdir=str(workdir) if workdir else None, extra=extra,
        )
        return LaunchSpec(
            argv=[*rlimit_command(self.limits), *runner_argv],
            preexec_fn=confinement.preexec,
            cleanup=confinement.cleanup,
            profiler_inside=ProfilerInside(prefix, pyspy, PROFILE_INSIDE, confinement.confine),
        )

    def sandbox_command(
        self, confinement: JobConfinement, python: str, read_only: list[str], writable: dict[str, str] | None = None,
        workdir: str | None = None, extra: list[str] | None = None,
    ) -> list[str]:
        """The command line that runs what follows it in the sandbox (the self-test uses it too)."""
        sandbox_filter = confinement.write_seccomp(self.sandbox_filter) if self.sandbox_filter else ""
        script_filter = (
            confinement.write_seccomp(self.script_filter, SCRIPT_SECCOMP_FILE) if self.script_filter else ""
        )
        args = self.bwrap_args(python, read_only, writable or {}, seccomp=bool(sandbox_filter), workdir=workdir,
                               extra=extra)
        if script_filter:
            args = ["--ro-bind", script_filter, SCRIPT_FILTER_INSIDE, "--setenv", SECCOMP_ENV, SCRIPT_FILTER_INSIDE,
                    *args]
        return confinement.wrap([self.bwrap, *args, "--"], seccomp=sandbox_filter, clear_env=True, join_box=False)

    def bwrap_args(
        self, python: str, read_only: list[str], writable: dict[str, str], *, seccomp: bool,
        workdir: str | None = None, extra: list[str] | None = None,
    ) -> list[str]:
        """bwrap's options: namespaces, environment, file system, seccomp."""
        args = [
            "--unshare-all", "--unshare-user", "--disable-userns",
            # What follows is the pid namespace's first process: the kernel delivers to it only
            # the signals it handles (py-spy: SIGINT), so the script cannot kill or stop it.
            "--as-pid-1",
            "--die-with-parent", "--new-session", "--hostname", SANDBOX_HOSTNAME,
            "--setenv", "PATH", SANDBOX_PATH, "--setenv", "HOME", "/tmp",
            "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8",
            *_root_args(),
            # /tmp first: files bound below may live under the host's /tmp.
            "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",
            *_python_args(python),
        ]
        # The project first: the script, bound below, may sit inside it.
        for path in ([workdir] if workdir else []) + read_only:
            args += ["--ro-bind", path, path]
        for host, inside in writable.items():
            args += ["--bind", host, inside]
        args += extra or []
        args += [
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", str(self.limits.shm_bytes), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",  # not recursive: /dev/shm stays writable, within its size
            "--remount-ro", "/",  # bwrap's root is an uncapped tmpfs: only /tmp, /dev/shm and the profile stay writable
            "--chdir", workdir or "/tmp",
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
    """Make ``python`` runnable inside: bind its installation prefix, recreate the path it is called by.

    A script environment's interpreter brings its whole venv, read-only: its ``pyvenv.cfg``
    and site-packages are what make its packages importable. Only a venv marked as one
    (``SCRIPT_ENV_MARKER``): any other venv - the app's own - stays out, its interpreter
    then runs as the bare base Python."""
    real = os.path.realpath(python)
    venv = os.path.dirname(os.path.dirname(os.path.abspath(python))) if os.path.isabs(python) else ""
    venv_args = []
    if venv and os.path.isfile(os.path.join(venv, SCRIPT_ENV_MARKER)) and not _inside(venv, ["/usr"]):
        venv_args = ["--ro-bind", venv, venv]
    bound = ["/usr"]
    prefix = os.path.dirname(os.path.dirname(real))
    if not _inside(prefix, bound) and prefix != "/":
        bound.append(prefix)
    args = ["--ro-bind", prefix, prefix] if len(bound) > 1 else []
    if venv_args:
        return args + venv_args  # the venv's own bin/python symlink comes with it
    if os.path.isabs(python) and not _inside(python, bound):  # e.g. a venv's bin/python symlink
        args += ["--symlink", real, python]
    return args


def _inside(path: str, trees: list[str]) -> bool:
    return any(path == tree or path.startswith(tree + "/") for tree in trees)
