"""Keep the processes of one run on a leash: die with the worker, and leave nothing behind.

How "nothing is left running" is achieved (Linux, no root, stdlib):
1. py-spy starts in a new session, so py-spy, the runner and everything they fork
   share one process group and session id (= py-spy's pid); at the end the whole
   group gets SIGKILL.
2. A double-forked daemon that calls ``setsid()`` leaves both. It still carries the
   run's environment, so every process whose ``/proc/<pid>/environ`` holds this run's
   random token (``RUN_TOKEN_ENV``) is killed too. The scan repeats until a pass finds
   nothing, so a process forked during the scan is caught by the next pass.
3. py-spy gets PR_SET_PDEATHSIG(SIGKILL) and the runner does the same towards py-spy,
   so a worker that dies mid-run takes both with it.
Remaining gap without a sandbox: a process that both leaves the session *and* execs
with a scrubbed environment escapes. The bubblewrap launcher closes it (a pid
namespace dies with its first process).
If the calling process is a child subreaper, killed orphans become its children;
they are reaped here so no zombie stays behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Iterator

RUN_TOKEN_ENV = "FLAMEDECK_RUN_TOKEN"
PR_SET_PDEATHSIG = 1
MAX_KILL_ROUNDS = 50  # scans before giving up on a process that keeps forking
KILL_ROUND_PAUSE_S = 0.01  # lets SIGKILLed processes turn into zombies between scans

_libc = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: preexec code must not load libraries


def die_with_parent(parent_pid: int) -> None:
    """preexec_fn body: SIGKILL this child when ``parent_pid`` (the thread that forked it) ends.

    Call it as ``functools.partial(die_with_parent, os.getpid())`` so the pid is taken
    before the fork.
    """
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group; a group that is already gone is fine."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_leftovers(session_id: int, token: str) -> list[int]:
    """Kill every live process of the run (its session or its token); return their pids.

    Killed processes that became our children (we are a subreaper) are reaped too.
    The scan repeats until a pass finds nothing alive and nothing to reap.
    """
    killed: list[int] = []
    for _ in range(MAX_KILL_ROUNDS):
        alive, dead_children = _scan(session_id, token, set(killed))
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            if pid not in killed:
                killed.append(pid)
        for pid in dead_children:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if not alive and not dead_children:
            break
        time.sleep(KILL_ROUND_PAUSE_S)
    return killed


def is_alive(pid: int) -> bool:
    """True when a process with this pid exists (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_profiled(root_pid: int, profiler_name: str) -> tuple[int, int] | None:
    """(py-spy's pid, the runner's pid) among the descendants of ``root_pid``, or None.

    For a py-spy started inside a sandbox: the worker knows only the pid of the
    sandbox's outer process. py-spy is the descendant whose command name is
    ``profiler_name``, the runner its child. Called before the script is let go,
    so nothing the script does can stand in for either.
    """
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for pid in _proc_pids():
        info = _stat(pid)
        if info is not None and info["state"] not in ("Z", "X"):
            children.setdefault(info["ppid"], []).append(pid)
            names[pid] = info["name"]
    waiting = list(children.get(root_pid, []))
    while waiting:
        pid = waiting.pop()
        if names.get(pid) == profiler_name:
            spawned = sorted(children.get(pid, []))
            return (pid, spawned[0]) if spawned else None
        waiting.extend(children.get(pid, []))
    return None


def _scan(session_id: int, token: str, killed: set[int]) -> tuple[list[int], list[int]]:
    """Live processes of the run, and zombies of the run whose parent is this process."""
    marker = f"{RUN_TOKEN_ENV}={token}".encode()
    me = os.getpid()
    alive: list[int] = []
    dead_children: list[int] = []
    for pid in _proc_pids():
        info = _stat(pid)
        if pid == me or info is None:
            continue
        in_session = session_id in (info["session"], info["pgrp"])
        if info["state"] in ("Z", "X"):
            # A zombie's environ is empty: recognise it by session or by having been killed here.
            if info["ppid"] == me and (in_session or pid in killed):
                dead_children.append(pid)
        elif in_session or _has_env(pid, marker):
            alive.append(pid)
    return alive, dead_children


def _proc_pids() -> Iterator[int]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if name.isdigit():
            yield int(name)


def _stat(pid: int) -> dict[str, object] | None:
    """Command name, state, parent, group and session of a process from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            text = stat_file.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    fields = text[text.rindex(")") + 2 :].split()
    name = text[text.index("(") + 1 : text.rindex(")")]
    return {"name": name, "state": fields[0], "ppid": int(fields[1]), "pgrp": int(fields[2]), "session": int(fields[3])}


def _has_env(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ_file:
            entries = environ_file.read().split(b"\0")
    except OSError:  # another user's process, or gone already
        return False
    return marker in entries
