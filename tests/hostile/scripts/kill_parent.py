"""Kill the parent, then every process this user may signal."""
import os
import time

for target in (os.getppid(), -1):
    try:
        os.kill(target, 9)
        print(f"kill({target}, 9) sent", flush=True)
    except OSError as error:
        print(f"kill({target}, 9) refused: {error}", flush=True)
time.sleep(1)
print("still here", flush=True)
