"""Double-fork a daemon that means to outlive the job (argv[1] marks its command line)."""
import os
import sys
import time

marker = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/usr/bin/sleep", ["sleep", marker])
    os._exit(0)
time.sleep(1.5)
print("parent done; daemon started", flush=True)
