"""Ask for 20 GB of memory and touch it."""
GIB = 1024**3
try:
    block = bytearray(20 * GIB)
    print("allocated 20 GB", flush=True)
except MemoryError:
    print("allocation refused: MemoryError", flush=True)
    raise
