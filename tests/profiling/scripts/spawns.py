"""Run a busy Python child process (for the subprocesses mode)."""
import subprocess
import sys

CHILD = """
import time
def child_work():
    end = time.monotonic() + 0.6
    while time.monotonic() < end:
        pass
child_work()
"""
subprocess.run([sys.executable, "-c", CHILD], check=True)
