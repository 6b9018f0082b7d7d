"""Go after py-spy, the script's parent inside the sandbox: its /proc files, signals, its output file."""
import os
import signal
import time

profiler = os.getppid()
print(f"parent is {open(f'/proc/{profiler}/comm').read().strip()}", flush=True)
for name in ("mem", "environ", "maps", "fd", "cwd/."):
    path = f"/proc/{profiler}/{name}"
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as handle:
                handle.read(64)
        print(f"opened {name}", flush=True)
    except OSError as error:
        print(f"{name} refused: {error.strerror}", flush=True)
for signum in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
    os.kill(profiler, signum)
    print(f"sent {signum.name}", flush=True)
cmdline = open(f"/proc/{profiler}/cmdline", "rb").read().split(b"\0")
output = cmdline[cmdline.index(b"--output") + 1].decode()
try:
    with open(output, "wb") as handle:
        handle.write(b"not a profile")
    print("overwrote the profile file", flush=True)
except OSError as error:
    print(f"profile file refused: {error.strerror}", flush=True)
end = time.perf_counter() + 1.5
while time.perf_counter() < end:
    pass
print("still sampled", flush=True)
