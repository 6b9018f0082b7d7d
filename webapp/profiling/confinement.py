"""What both launchers share: the unprivileged user, resource limits, the job's cgroup and the join wrapper.

A confined command starts with a tiny ``/bin/sh`` wrapper (``JOIN_SHELL``) that runs
as the unprivileged user, outside any sandbox: it moves itself into the job's
cgroup (unless the worker does that later), opens the seccomp program on fd
``SECCOMP_FD`` for bubblewrap, then execs the rest. A shell, not Python, so py-spy
never mistakes it for the script.
"""

from __future__ import annotations

import os
import pwd
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from .cgroup import CgroupCaps, JobCgroup, create_job_cgroup
from .processes import RUN_TOKEN_ENV
from .recording import PROFILE_NAME
from .runner import RUNNER_PATH
from .sandbox_settings import SandboxLimits

SECCOMP_FD = 9  # dash opens single-digit descriptors only; the recording keeps its own above 9
SECCOMP_FILE = "sandbox-seccomp.bpf"
SCRIPT_SECCOMP_FILE = "script-seccomp.bpf"
PROFILER_TMP = "profiler-tmp"  # py-spy's TMPDIR, inside the job directory
SCRIPT_AFTER_RUNNER = 4  # runner.py's arguments: STATUS_FD STDOUT_FD STDERR_FD SCRIPT [ARG ...]
FALLBACK_PYTHON = "/usr/bin/python3"
PRLIMIT = "/usr/bin/prlimit"
SHELL = "/bin/sh"
ENV = "/usr/bin/env"
# $1 seccomp file or "", $2 "clear" to start the command with only the run token in its
# environment, then cgroup.procs files up to "--", then the command.
JOIN_SHELL = f"""\
seccomp=$1; env_mode=$2; shift 2
while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift
if [ -n "$seccomp" ]; then exec {SECCOMP_FD}< "$seccomp" || exit 125; fi
if [ "$env_mode" = clear ]; then exec {ENV} -i "{RUN_TOKEN_ENV}=${RUN_TOKEN_ENV}" "$@"; fi
exec "$@"
"""


class SandboxUnavailable(RuntimeError):
    """The requested confinement cannot be set up here; the message says why and what to do."""


@dataclass(frozen=True)
class ServiceUser:
    """The unprivileged account py-spy and the script run as when the worker is root."""

    name: str
    uid: int
    gid: int

    def can_run(self, path: str) -> bool:
        """True when this user may execute ``path``: every directory searchable, the file readable."""
        real = Path(os.path.realpath(path))
        return self.can_reach(real) and self._may(real, stat.S_IROTH | stat.S_IXOTH)

    def can_reach(self, path: Path) -> bool:
        """True when this user may search every directory above ``path``."""
        return all(self._may(parent, stat.S_IXOTH) for parent in Path(os.path.realpath(path)).parents)

    def _may(self, path: Path, other_bits: int) -> bool:
        try:
            return self._allowed(os.stat(path), other_bits)
        except OSError:
            return False

    def _allowed(self, info: os.stat_result, other_bits: int) -> bool:
        if info.st_uid == self.uid:
            return info.st_mode & (other_bits << 6) == other_bits << 6
        if info.st_gid == self.gid:
            return info.st_mode & (other_bits << 3) == other_bits << 3
        return info.st_mode & other_bits == other_bits


def service_user(name: str) -> ServiceUser | None:
    """The user to drop to, or None when the worker is not root (it already is unprivileged)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SandboxUnavailable(
            f"The worker runs as root but the sandbox user '{name}' does not exist, and scripts must "
            f"never run as root. Run .ci/setup (it creates the user) or set FLAMEDECK_SANDBOX_USER."
        ) from None
    if entry.pw_uid == 0:
        raise SandboxUnavailable(f"The sandbox user '{name}' is root; name an unprivileged user instead.")
    return ServiceUser(name, entry.pw_uid, entry.pw_gid)


def script_python(limits: SandboxLimits, user: ServiceUser | None) -> str:
    """The interpreter for scripts: the setting, else this Python if ``user`` can run it, else the system's."""
    if limits.python:
        return limits.python
    if user is None or user.can_run(sys.executable):
        return sys.executable
    return FALLBACK_PYTHON


def script_of(runner_argv: list[str]) -> str:
    """The script named in runner.py's command line (``python -B RUNNER_PATH FD FD FD SCRIPT ...``)."""
    try:
        return runner_argv[runner_argv.index(RUNNER_PATH) + SCRIPT_AFTER_RUNNER]
    except (ValueError, IndexError):
        raise ValueError("The runner command line does not name runner.py and a script.") from None


def rlimit_command(limits: SandboxLimits) -> list[str]:
    """``prlimit`` with the per-process limits, ending in ``--``: it sets them, then execs the script."""
    return [
        PRLIMIT,
        f"--as={limits.memory_bytes}",
        f"--nproc={limits.processes}",
        f"--cpu={limits.cpu_s}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
    ]


class JobConfinement:
    """The per-job parts around the sandbox: cgroup, seccomp file, privilege drop, join wrapper."""

    def __init__(self, limits: SandboxLimits, user: ServiceUser | None, job_dir: Path, python: str):
        self.user = user
        self.job_dir = job_dir
        if user is not None:
            if not user.can_run(python):
                raise SandboxUnavailable(
                    f"The sandbox user '{user.name}' cannot run the interpreter {python}. Pass the "
                    "launcher's own interpreter (launcher.python) to run_script, or set "
                    "FLAMEDECK_SANDBOX_PYTHON to one that user can run, such as /usr/bin/python3."
                )
            if not user.can_reach(job_dir):
                raise SandboxUnavailable(
                    f"The sandbox user '{user.name}' cannot reach the job directory {job_dir}, so py-spy "
                    "could not write the profile there. Let that user search its parent directories "
                    "(for example chmod 711 on each)."
                )
            self._hand_over(user)
        owner = (user.uid, user.gid) if user else None
        caps = CgroupCaps(limits.memory_bytes, limits.processes, limits.cpu_cores)
        self.cgroup: JobCgroup | None = create_job_cgroup(
            f"{os.getpid()}-{secrets.token_hex(6)}", caps, owner, limits.cgroup_parent
        )
        self._spy_procs = [str(p) for p in self.cgroup.leaf_procs("spy")] if self.cgroup else []
        self.seccomp_paths: list[Path] = []

    def _hand_over(self, user: ServiceUser) -> None:
        """Give the user what py-spy writes - its profile file and a scratch directory - not the
        job directory itself: where the script runs as that user too (rlimits mode), it could
        otherwise plant symlinks there that the root worker would follow when reading results."""
        mode = self.job_dir.stat().st_mode
        self.job_dir.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)  # search only: it may open what it is given
        profile = self.job_dir / PROFILE_NAME
        profile.touch()
        os.chown(profile, user.uid, user.gid)
        scratch = self.job_dir / PROFILER_TMP
        scratch.mkdir(exist_ok=True)
        os.chown(scratch, user.uid, user.gid)

    def hand_over_script(self, script: str) -> None:
        """Make a script the worker wrote into the job directory readable by the user."""
        if self.user is not None and Path(script).resolve().parent == self.job_dir.resolve():
            os.chown(script, self.user.uid, self.user.gid)

    def profiler_env(self) -> dict[str, str]:
        """py-spy's temporary files go to the job, so a killed py-spy leaves none in the shared /tmp."""
        scratch = self.job_dir / PROFILER_TMP
        return {"TMPDIR": str(scratch if scratch.is_dir() else self.job_dir)}

    def write_seccomp(self, program: bytes, name: str = SECCOMP_FILE) -> str:
        """Store a filter where the wrapper can open it; returns its path."""
        path = self.job_dir / name
        path.write_bytes(program)
        path.chmod(0o644)
        self.seccomp_paths.append(path)
        return str(path)

    def wrap(
        self, command: list[str], *, seccomp: str = "", clear_env: bool = False, join_box: bool = True
    ) -> list[str]:
        """The join wrapper around ``command``; ``join_box=False`` leaves joining to ``confine``."""
        box = [str(p) for p in self.cgroup.leaf_procs("box")] if self.cgroup and join_box else []
        return [SHELL, "-c", JOIN_SHELL, "flamedeck-join", seccomp, "clear" if clear_env else "keep",
                *box, "--", *command]

    def confine(self, pid: int) -> None:
        """From the worker: move process ``pid`` (a host pid) into the job's limited cgroup."""
        for procs in self.cgroup.leaf_procs("box") if self.cgroup else []:
            procs.write_text(str(pid))

    def preexec(self) -> None:
        """In py-spy's process, still as the worker's user: enter the job cgroup, then drop privileges."""
        pid = str(os.getpid()).encode()
        for procs in self._spy_procs:
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        if self.user is not None:
            os.setgroups([])
            os.setgid(self.user.gid)
            os.setuid(self.user.uid)

    def cleanup(self) -> None:
        """Kill whatever is left in the job's cgroup, remove it and the seccomp file."""
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        for path in self.seccomp_paths:
            path.unlink(missing_ok=True)
        self.seccomp_paths = []


def tool_missing() -> str | None:
    """The first helper program the launchers need that is missing, or None."""
    for tool in (SHELL, PRLIMIT, ENV):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            return tool
    return None
