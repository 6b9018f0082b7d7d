"""Fork until the sandbox says no; every child keeps forking too."""
import os
import time

started = 0
deadline = time.monotonic() + 2.0
while time.monotonic() < deadline:
    try:
        if os.fork() == 0:
            started = 0
        else:
            started += 1
    except OSError as error:
        print(f"fork refused after {started}: {error}", flush=True)
        time.sleep(0.2)
