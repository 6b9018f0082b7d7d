"""Burn CPU for argv[1] seconds (default 0.5), then say so."""
import sys
import time


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(100))


spin(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
print("busy done")
