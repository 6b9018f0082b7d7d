"""The sandbox's seccomp filters: deny what a profiled script never needs.

Two filters, stacked (the kernel applies every filter a process has):

* the *sandbox* filter, installed by bubblewrap on everything inside - py-spy too -
  denies ``DENIED_SYSCALLS`` except ``PROFILER_SYSCALLS``;
* the *script* filter, installed by the runner on itself just before the script
  runs, denies ``PROFILER_SYSCALLS``: py-spy, the script's parent, must read and
  pause the script, and the script must not do the same to anything.

Built with libseccomp (Debian ``libseccomp2``) through ``ctypes`` so that this
package keeps to the standard library; libseccomp resolves syscall numbers for
the machine's architecture and makes foreign-architecture syscalls (i386 via
``int 0x80``, x32) kill the caller, which a hand-written BPF program would have
to get right per architecture. Without libseccomp there is no filter, and
``seccomp_available()`` says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from functools import lru_cache

# Each denied call fails with EPERM, as it would for any unprivileged process.
DENIED_SYSCALLS = (
    # reading or steering other processes (py-spy's own tools, turned around)
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel surfaces with a long record of exploits
    "perf_event_open", "bpf", "userfaultfd", "keyctl", "add_key", "request_key",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # rearranging the sandbox itself
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    # whole-machine administration
    "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime",
    "adjtimex", "clock_adjtime", "vhangup", "uselib", "fanotify_init", "lookup_dcookie",
)

# What py-spy needs to sample the script (``--native`` and blocking mode pause it with ptrace).
PROFILER_SYSCALLS = ("ptrace", "process_vm_readv", "process_vm_writev")
SANDBOX_DENIED = tuple(name for name in DENIED_SYSCALLS if name not in PROFILER_SYSCALLS)

_ACT_ALLOW = 0x7FFF0000
_ACT_ERRNO = 0x00050000


def _act_errno(code: int) -> int:
    return _ACT_ERRNO | (code & 0xFFFF)


@lru_cache(maxsize=1)
def _libseccomp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.restype = ctypes.c_int
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_export_bpf.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.restype = None
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def seccomp_available() -> bool:
    """True when libseccomp can be loaded, so ``build_filter`` returns a program."""
    return _libseccomp() is not None


def build_sandbox_filter() -> bytes | None:
    """The filter bubblewrap installs on the whole sandbox (see module doc)."""
    return build_filter(SANDBOX_DENIED)


def build_script_filter() -> bytes | None:
    """The filter the runner installs on itself before the script runs (see module doc)."""
    return build_filter(PROFILER_SYSCALLS)


@lru_cache(maxsize=4)
def build_filter(denied: tuple[str, ...]) -> bytes | None:
    """The compiled BPF program denying ``denied`` with EPERM (an array of ``struct
    sock_filter``, bwrap's ``--seccomp`` format), or None without libseccomp."""
    lib = _libseccomp()
    if lib is None:
        return None
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        return None
    try:
        for name in denied:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:  # not a syscall on this architecture
                continue
            if lib.seccomp_rule_add(ctx, _act_errno(errno.EPERM), number, 0) != 0:
                return None
        return _export(lib, ctx)
    finally:
        lib.seccomp_release(ctx)


def _export(lib: ctypes.CDLL, ctx: int) -> bytes | None:
    fd = os.memfd_create("flamedeck-seccomp")
    try:
        if lib.seccomp_export_bpf(ctx, fd) != 0:
            return None
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
