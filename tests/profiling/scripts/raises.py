"""Work a little, then raise from inside a function."""
import time


def check(value):
    if value < 0:
        raise ValueError("the input was negative")


end = time.monotonic() + 0.3
while time.monotonic() < end:
    pass
check(-1)
