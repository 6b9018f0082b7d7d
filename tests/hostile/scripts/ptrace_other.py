"""Attach to another process with ptrace and read its memory."""
import ctypes
import os

PTRACE_ATTACH = 16
libc = ctypes.CDLL(None, use_errno=True)
child = os.fork()
if child == 0:
    import time
    time.sleep(5)
    os._exit(0)
for pid in (child, 1, os.getppid()):
    result = libc.ptrace(PTRACE_ATTACH, pid, None, None)
    error = ctypes.get_errno()
    print(f"ptrace attach {pid}: {'attached' if result == 0 else 'refused: ' + os.strerror(error)}", flush=True)
try:
    with open(f"/proc/{os.getppid()}/mem", "rb") as handle:
        print(f"read parent memory {handle.read(16)!r}", flush=True)
except OSError as error:
    print(f"parent memory refused: {error}", flush=True)
os.kill(child, 9)
