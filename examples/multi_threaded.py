"""Four worker threads doing different CPU work while the main thread waits.

What it shows: the thread selector. Each worker has its own hot function
(``hash_blocks``, ``sort_lists``, ``count_primes``, ``multiply_matrices``) and
its own thread name, so each thread's flamegraph looks different, and the
"All threads" view merges them. The main thread only waits in ``join``: it is
visible with py-spy's idle mode and nearly absent without it. Because of the
GIL the workers take turns; ``--gil`` mode shows who holds it.

Run:  python multi_threaded.py --runtime 3
"""

import argparse
import hashlib
import random
import threading
import time


def hash_blocks(deadline):
    """SHA-256 over small blocks; most time is in C, called from Python."""
    digest, rounds = b"seed", 0
    while time.perf_counter() < deadline:
        for _ in range(200):
            digest = hashlib.sha256(digest * 8).digest()
        rounds += 1
    return rounds


def sort_lists(deadline):
    """Sort freshly shuffled lists with a Python key function."""
    rng, rounds = random.Random(1), 0
    while time.perf_counter() < deadline:
        values = [rng.random() for _ in range(5000)]
        values.sort(key=lambda value: -value)
        rounds += 1
    return rounds


def count_primes(deadline):
    """Count primes with trial division, block by block."""
    found, candidate = 0, 2
    while time.perf_counter() < deadline:
        for n in range(candidate, candidate + 500):
            if all(n % d for d in range(2, int(n**0.5) + 1)):
                found += 1
        candidate += 500
    return found


def multiply_matrices(deadline):
    """Pure-Python matrix multiplication, the slowest way there is."""
    size, rounds = 30, 0
    a = [[(i * j) % 7 for j in range(size)] for i in range(size)]
    while time.perf_counter() < deadline:
        a = [
            [sum(a[i][k] * a[k][j] for k in range(size)) % 97 for j in range(size)]
            for i in range(size)
        ]
        rounds += 1
    return rounds


WORKERS = {
    "hasher": hash_blocks,
    "sorter": sort_lists,
    "primes": count_primes,
    "matrix": multiply_matrices,
}


def run_workers(runtime_s):
    """Start one named thread per worker and wait for all of them."""
    deadline = time.perf_counter() + runtime_s
    results = {}

    def work(name, job):
        results[name] = job(deadline)

    threads = [
        threading.Thread(target=work, args=(name, job), name=name) for name, job in WORKERS.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # the main thread is idle here
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", type=float, default=3.0, help="seconds to run (default 3)")
    args = parser.parse_args()
    results = run_workers(args.runtime)
    for name, value in results.items():
        print(f"{name:<8} {value}")


if __name__ == "__main__":
    main()
