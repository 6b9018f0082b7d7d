"""Write a 10 GB file wherever a file can be written."""
import os
import sys

CHUNK = b"x" * (1024 * 1024)
for place in [os.getcwd(), "/tmp", "/dev/shm", *sys.argv[1:]]:
    path = os.path.join(place, "big.bin")
    written = 0
    try:
        with open(path, "wb") as handle:
            for _ in range(10 * 1024):
                handle.write(CHUNK)
                written += len(CHUNK)
    except OSError as error:
        print(f"{place}: stopped after {written} bytes: {error}", flush=True)
    else:
        print(f"{place}: wrote 10 GB", flush=True)
