"""Spread memory over several processes, each under the per-process limit, together over the job's cap."""
import os
import sys
import time

each_bytes, count = int(sys.argv[1]), int(sys.argv[2])
children = []
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        block = b"\x01" * each_bytes  # every page written, so every page is charged
        time.sleep(2)
        os._exit(0)
    children.append(pid)
for pid in children:
    _, status = os.waitpid(pid, 0)
    how = f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
    print(f"child {how}", flush=True)
