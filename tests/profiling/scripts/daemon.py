"""Double-fork a daemon in its own session that means to outlive the run; it writes daemon.pid."""
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open("daemon.pid.partial", "w") as pid_file:
            pid_file.write(str(os.getpid()))
        os.rename("daemon.pid.partial", "daemon.pid")
        time.sleep(60)
        os._exit(0)
    os._exit(0)
while not os.path.exists("daemon.pid"):
    time.sleep(0.01)
end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass
print("parent done; daemon started", flush=True)
