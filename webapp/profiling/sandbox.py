"""Choosing how scripts are confined: bubblewrap when it works, else resource limits with a warning.

``FLAMEDECK_SANDBOX`` = ``bwrap`` (required: fail if it does not work),
``rlimits`` (resource limits only) or ``auto`` (bubblewrap if a quick self-test
passes, else resource limits and a warning every page and API response shows).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .bwrap import BwrapLauncher
from .cgroup import remove_stale_job_cgroups
from .confinement import (
    JobConfinement, SandboxUnavailable, ServiceUser, rlimit_command, script_of, script_python, service_user,
    tool_missing,
)
from .launch import LaunchSpec
from .runner import RUNNER_PATH
from .sandbox_settings import SANDBOX_MODES, SANDBOX_SETTINGS, SandboxLimits, sandbox_defaults

__all__ = [
    "NO_SANDBOX_WARNING", "SANDBOX_MODES", "SANDBOX_SETTINGS", "BwrapLauncher", "RlimitsLauncher",
    "SandboxLimits", "SandboxUnavailable", "bwrap_problem", "choose_launcher", "sandbox_defaults",
    "script_python",
]

NO_SANDBOX_WARNING = (
    "Scripts run without isolation on this server: only resource limits hold them, so an uploaded "
    "script can read and change whatever the server's user can, and reach the network. "
    "Profile only scripts you trust."
)
SELF_TEST_OUTPUT = "flamedeck-sandbox-ok"
# Run inside the sandbox by the self-test: prints the marker only if both seccomp filters work -
# bubblewrap's denies unshare, and the runner's, installed as before a script, denies ptrace.
SELF_TEST_CODE = (
    "import ctypes, sys\n"
    "sys.path.insert(0, {runner_dir!r})\n"
    "import runner\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "sandbox_filter = libc.unshare(0) != 0\n"
    "runner._confine_syscalls()\n"
    "script_filter = libc.ptrace(0, 0, None, None) != 0\n"
    "print('{marker}' if (sandbox_filter and script_filter) or not {seccomp} else 'seccomp-not-applied')\n"
)


@dataclass
class RlimitsLauncher:
    """No isolation: the runner runs with per-process rlimits, in a cgroup when one is writable,
    as ``user`` when the worker is root. Leftover processes are killed by the recording."""

    limits: SandboxLimits = field(default_factory=SandboxLimits)
    user: ServiceUser | None = None
    python: str = ""  # the interpreter to pass to run_script; empty: see script_python()
    sandboxed: bool = False
    description: str = NO_SANDBOX_WARNING

    def __post_init__(self) -> None:
        self.python = self.python or script_python(self.limits, self.user)

    def launch(self, runner_argv: list[str], job_dir: Path, workdir: Path | None = None,
               coverage=None) -> LaunchSpec:
        """The runner behind the cgroup join and ``prlimit``; same pid all the way, so no --subprocesses.

        ``coverage`` (a ``coverage_run.CoverageFiles``): the runner is told where coverage.py and its
        report file are (the file is the user's to write; the copied package is only read)."""
        confinement = JobConfinement(self.limits, self.user, Path(job_dir), runner_argv[0])
        confinement.hand_over_script(script_of(runner_argv))
        env = confinement.profiler_env()
        if coverage is not None:
            from .runner import COVERAGE_LIB_ENV, COVERAGE_OUT_ENV

            if self.user is not None:
                os.chown(coverage.out_file, self.user.uid, self.user.gid)
            env |= {COVERAGE_OUT_ENV: str(coverage.out_file), COVERAGE_LIB_ENV: str(coverage.lib_dir)}
        limits = rlimit_command(self.limits)
        if self.user is None:
            # RLIMIT_NPROC counts every process of the user: an ordinary login has more than a script's share.
            limits = [arg for arg in limits if not arg.startswith("--nproc=")]
        return LaunchSpec(
            argv=confinement.wrap([*limits, *runner_argv]),
            preexec_fn=confinement.preexec,
            env=env,
            cleanup=confinement.cleanup,
        )


def choose_launcher(
    mode: str, limits: SandboxLimits | None = None, *, bwrap: str | None = None
) -> tuple[BwrapLauncher | RlimitsLauncher, str | None]:
    """The launcher for ``FLAMEDECK_SANDBOX=mode`` and the warning pages must show (None = isolated).

    Pass ``launcher.python`` to ``run_script`` as the interpreter. ``bwrap`` overrides
    where bubblewrap is looked for. Raises SandboxUnavailable when ``mode`` is unknown,
    when ``bwrap`` mode is asked for but does not work, or when the worker is root and
    the sandbox user is missing.
    """
    limits = limits or SandboxLimits()
    mode = (mode or "auto").strip().lower()
    if mode not in SANDBOX_MODES:
        raise SandboxUnavailable(
            f"FLAMEDECK_SANDBOX must be one of {', '.join(SANDBOX_MODES)}; {mode!r} was given."
        )
    user = service_user(limits.user)
    remove_stale_job_cgroups(limits.cgroup_parent)  # left by a worker that was killed mid-job
    if mode == "rlimits":
        return RlimitsLauncher(limits, user), NO_SANDBOX_WARNING
    launcher = BwrapLauncher(limits, user, bwrap=bwrap) if bwrap else BwrapLauncher(limits, user)
    problem = bwrap_problem(launcher)
    if problem is None:
        return launcher, None
    if mode == "bwrap":
        raise SandboxUnavailable(
            f"FLAMEDECK_SANDBOX is 'bwrap' but the bubblewrap sandbox does not work here: {problem} "
            "Fix that, or set FLAMEDECK_SANDBOX=auto to fall back to resource limits only."
        )
    return RlimitsLauncher(limits, user), f"{NO_SANDBOX_WARNING} (Bubblewrap could not be used: {problem})"


def bwrap_problem(launcher: BwrapLauncher) -> str | None:
    """Run a tiny script in the sandbox as a job would; None if it works, else what went wrong."""
    if not (os.path.isfile(launcher.bwrap) and os.access(launcher.bwrap, os.X_OK)):
        return f"bubblewrap is not installed at {launcher.bwrap} (Debian package 'bubblewrap')."
    missing = tool_missing()
    if missing:
        return f"the program {missing} is missing."
    python = launcher.python
    seccomp = launcher.sandbox_filter is not None and launcher.script_filter is not None
    code = SELF_TEST_CODE.format(marker=SELF_TEST_OUTPUT, seccomp=seccomp, runner_dir=os.path.dirname(RUNNER_PATH))
    with tempfile.TemporaryDirectory(prefix="flamedeck-sandbox-check-") as job_dir:
        try:
            confinement = JobConfinement(launcher.limits, launcher.user, Path(job_dir), python)
        except SandboxUnavailable as error:
            return str(error)
        command = [*launcher.sandbox_command(confinement, python, [RUNNER_PATH]), python, "-I", "-c", code]
        try:
            done = subprocess.run(
                command, preexec_fn=confinement.preexec, cwd=job_dir, stdin=subprocess.DEVNULL,
                capture_output=True, timeout=launcher.limits.self_test_timeout_s,
            )
        except subprocess.TimeoutExpired:
            return f"a test run did not finish within {launcher.limits.self_test_timeout_s:g} s."
        except OSError as error:
            return f"a test run could not start ({error.strerror or error})."
        finally:
            confinement.cleanup()
    if done.stdout.decode(errors="replace").strip() == SELF_TEST_OUTPUT:
        return None
    said = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
    detail = said[-1] if said else f"exit status {done.returncode}"
    return f"a test run of {python} failed ({detail})."
