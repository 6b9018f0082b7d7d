"""Fill /dev/shm, the memory-backed file system shared with other processes."""
import os

CHUNK = b"s" * (1024 * 1024)
written = 0
try:
    with open("/dev/shm/fill", "wb") as handle:
        while True:
            handle.write(CHUNK)
            written += len(CHUNK)
            handle.flush()
except OSError as error:
    print(f"/dev/shm full after {written} bytes: {error}", flush=True)
