"""One control group per job: memory, process and CPU caps for the sandbox, and a sure way to end it.

Layout, the same on cgroup v1 (per controller hierarchy) and v2 (one hierarchy)::

    <parent>/flamedeck-<job>/        the job; removed afterwards
    <parent>/flamedeck-<job>/spy     py-spy (no limits: throttling it would lose samples)
    <parent>/flamedeck-<job>/box     the script and what it starts, with the limits

``<parent>`` is the worker's own cgroup unless the operator names a delegated
one. py-spy is moved into ``spy`` before it drops privileges. The script's first
process gets into ``box`` either by itself, from ``spy`` (the join shell of
``confinement``; cgroup v2 allows that to an unprivileged user only inside a
subtree it owns - hence the two leaves and the ``chown``), or, when py-spy runs
inside bubblewrap and the script is out of reach of the join shell, moved there
by the worker before the script starts. When nothing is writable, there is no
cgroup and the rlimits alone apply.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .processes import is_alive

V1_CONTROLLERS = ("memory", "pids", "cpu")
# The CPU controller only when a CPU quota is asked for: a job in a CPU cgroup of its own is
# scheduled as a group, its woken threads wait their group's turn in the run queue, and py-spy
# takes them for running ones (measured: a multiprocessing pool's waiting threads got 10 %
# of the samples instead of 1 %, with any quota, even one the job never reached).
CPU_CONTROLLER = "cpu"
CPU_PERIOD_US = 100_000  # the kernel's default CFS period
MIN_CPU_QUOTA_US = 1_000  # the kernel refuses a smaller quota
JOB_PREFIX = "flamedeck-"
KILL_ROUNDS = 50  # a fork bomb can refill the group between two reads of cgroup.procs
KILL_ROUND_PAUSE_S = 0.02


@dataclass(frozen=True)
class CgroupCaps:
    """The limits one job's cgroup enforces on the sandbox."""

    memory_bytes: int
    processes: int
    cpu_cores: float


@dataclass
class JobCgroup:
    """A created job cgroup: one directory per hierarchy (one on v2, one per controller on v1)."""

    version: int
    jobs: list[Path]

    def leaf_procs(self, leaf: str) -> list[Path]:
        """The ``cgroup.procs`` files a process writes to join ``leaf`` everywhere."""
        return [job / leaf / "cgroup.procs" for job in self.jobs]

    def pids(self) -> set[int]:
        """Every process still in the job, in either leaf."""
        found: set[int] = set()
        for job in self.jobs:
            for procs in job.glob("*/cgroup.procs"):
                try:
                    found.update(int(line) for line in procs.read_text().split())
                except OSError:
                    pass
        return found

    def kill_all(self) -> bool:
        """SIGKILL every process in the job until none is left; True when it is empty."""
        if self.version == 2:
            for job in self.jobs:
                _write(job / "cgroup.kill", "1")
        for _ in range(KILL_ROUNDS):
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(KILL_ROUND_PAUSE_S)
        return not self.pids()

    def remove(self) -> None:
        """Kill what is left, then delete the job's directories (leaves first)."""
        self.kill_all()
        for job in self.jobs:
            for leaf in ("spy", "box"):
                _rmdir(job / leaf)
            _rmdir(job)


def create_job_cgroup(name: str, caps: CgroupCaps, owner: tuple[int, int] | None,
                      parent: str = "") -> JobCgroup | None:
    """Create the job's cgroup with ``caps`` on its ``box`` leaf, or None when none is writable.

    ``owner`` (uid, gid) receives the files an unprivileged process must write to
    move itself; ``parent`` overrides the worker's own cgroup (a v2 delegated path).
    """
    controllers = tuple(c for c in V1_CONTROLLERS if c != CPU_CONTROLLER or caps.cpu_cores > 0)
    hierarchies = _v2_parent(parent, controllers) or _v1_parents(parent, controllers)
    if hierarchies is None:
        return None
    version, parents = hierarchies
    group = JobCgroup(version, [])
    try:
        for controller, base in parents:
            job = base / f"{JOB_PREFIX}{name}"
            job.mkdir()
            group.jobs.append(job)
            if version == 2:
                _write(job / "cgroup.subtree_control", " ".join(f"+{c}" for c in controllers))
            for leaf in ("spy", "box"):
                (job / leaf).mkdir()
            _apply_caps(version, controller, job / "box", caps)
            if owner is not None:
                for path in (job / "cgroup.procs", job / "spy" / "cgroup.procs", job / "box" / "cgroup.procs"):
                    os.chown(path, *owner)
    except OSError:
        group.remove()
        return None
    return group


def existing_job_cgroups(parent: str = "") -> list[Path]:
    """Job cgroup directories under ``parent`` (default: this process's cgroups), in every hierarchy."""
    hierarchies = _any_parents(parent)
    if hierarchies is None:
        return []
    return _jobs_in(hierarchies[1])


def remove_stale_job_cgroups(parent: str = "") -> int:
    """Remove job cgroups left by workers that died (their pid is in the name); return how many."""
    hierarchies = _any_parents(parent)
    if hierarchies is None:
        return 0
    version, parents = hierarchies
    by_name: dict[str, list[Path]] = {}
    for job in _jobs_in(parents):
        by_name.setdefault(job.name, []).append(job)
    removed = 0
    for name, jobs in by_name.items():
        owner = name.removeprefix(JOB_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not is_alive(int(owner)):
            JobCgroup(version, jobs).remove()
            removed += 1
    return removed


def _any_parents(parent: str) -> tuple[int, list[tuple[str, Path]]] | None:
    """Where job cgroups may be: every writable hierarchy, with or without the CPU controller."""
    without_cpu = tuple(c for c in V1_CONTROLLERS if c != CPU_CONTROLLER)
    return _v2_parent(parent, without_cpu) or _v1_parents(parent, V1_CONTROLLERS) or _v1_parents(parent, without_cpu)


def _jobs_in(parents: list[tuple[str, Path]]) -> list[Path]:
    return sorted(job for _, base in parents for job in base.glob(f"{JOB_PREFIX}*") if job.is_dir())



def _apply_caps(version: int, controller: str, box: Path, caps: CgroupCaps) -> None:
    quota_us = max(int(caps.cpu_cores * CPU_PERIOD_US), MIN_CPU_QUOTA_US)
    if version == 2:
        _write(box / "memory.max", str(caps.memory_bytes))
        _write_if_present(box / "memory.swap.max", "0")
        _write(box / "pids.max", str(caps.processes))
        if caps.cpu_cores > 0:
            _write(box / "cpu.max", f"{quota_us} {CPU_PERIOD_US}")
        return
    controllers = controller.split(",")
    if "memory" in controllers:
        _write(box / "memory.limit_in_bytes", str(caps.memory_bytes))
        _write_if_present(box / "memory.memsw.limit_in_bytes", str(caps.memory_bytes))
    if "pids" in controllers:
        _write(box / "pids.max", str(caps.processes))
    if CPU_CONTROLLER in controllers and caps.cpu_cores > 0:
        _write(box / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(box / "cpu.cfs_quota_us", str(quota_us))


def _own_cgroups() -> dict[str, str]:
    """Controller (or "" for the v2 hierarchy) -> this process's cgroup path."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) of every cgroup mount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, right = line.split(" - ", 1)
        fstype, _source, options = right.split(" ", 2)
        if fstype in ("cgroup", "cgroup2"):
            found.append((left.split(" ")[4], fstype, set(options.split(","))))
    return found


def _v2_parent(parent: str, controllers: tuple[str, ...]) -> tuple[int, list[tuple[str, Path]]] | None:
    mounts = [Path(point) for point, fstype, _ in _mounts() if fstype == "cgroup2"]
    if not mounts:
        return None
    base = Path(parent) if parent else mounts[0] / _own_cgroups().get("", "/").lstrip("/")
    try:
        enabled = set((base / "cgroup.subtree_control").read_text().split())
    except OSError:
        return None
    if not set(controllers) <= enabled or not os.access(base, os.W_OK):
        return None
    return 2, [("", base)]


def _v1_parents(parent: str, controllers: tuple[str, ...]) -> tuple[int, list[tuple[str, Path]]] | None:
    own = _own_cgroups()
    bases: dict[Path, list[str]] = {}  # co-mounted controllers (e.g. "cpu,cpuacct") share one directory
    for controller in controllers:
        points = [Path(p) for p, fstype, opts in _mounts() if fstype == "cgroup" and controller in opts]
        if not points or controller not in own:
            return None
        base = points[0] / (parent or own[controller]).lstrip("/")
        if not os.access(base, os.W_OK):
            return None
        bases.setdefault(base, []).append(controller)
    return 1, [(",".join(controllers), base) for base, controllers in bases.items()]


def _write(path: Path, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _write_if_present(path: Path, text: str) -> None:
    if path.exists():
        _write(path, text)


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except FileNotFoundError:
        pass
    except OSError:  # still busy: a process escaped the kill; leave it for the next sweep
        pass
