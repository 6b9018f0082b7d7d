"""A well-behaved script: a second of arithmetic."""
import time


def crunch():
    deadline = time.monotonic() + 1.0
    total = 0
    while time.monotonic() < deadline:
        total += sum(range(500))
    return total


print("normal done", crunch() > 0, flush=True)
