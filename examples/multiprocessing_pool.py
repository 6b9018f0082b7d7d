"""A multiprocessing pool: three child processes doing different CPU work.

What it shows: profiling subprocesses. Profile it with the "subprocesses"
option (py-spy ``--subprocesses``) and the report gets one thread per process:
the children spend their time in ``collatz_lengths``, ``monte_carlo_pi`` and
``sum_of_divisors``, while the parent only waits for the pool's results.
Without that option you see the idle parent and nothing else.

Run:  python multiprocessing_pool.py --runtime 3
"""

import argparse
import multiprocessing
import random
import time

POOL_PROCESSES = 3


def collatz_lengths(deadline):
    """Length of the Collatz sequence of n = 1, 2, 3, ... until the deadline."""
    n, longest = 1, 0
    while time.perf_counter() < deadline:
        value, steps = n, 0
        while value != 1:
            value = value // 2 if value % 2 == 0 else 3 * value + 1
            steps += 1
        longest = max(longest, steps)
        n += 1
    return longest


def monte_carlo_pi(deadline):
    """Estimate pi by throwing random points at a square."""
    rng, inside, thrown = random.Random(7), 0, 0
    while time.perf_counter() < deadline:
        for _ in range(10_000):
            x, y = rng.random(), rng.random()
            inside += x * x + y * y <= 1.0
        thrown += 10_000
    return 4 * inside / thrown if thrown else 0.0


def sum_of_divisors(deadline):
    """Count perfect numbers found by summing divisors one by one."""
    n, perfect = 2, 0
    while time.perf_counter() < deadline:
        if sum(d for d in range(1, n // 2 + 1) if n % d == 0) == n:
            perfect += 1
        n += 1
    return perfect


TASKS = {"collatz": collatz_lengths, "pi": monte_carlo_pi, "divisors": sum_of_divisors}


def run_task(task):
    """Run one named task in a pool process until its deadline."""
    name, deadline = task
    return name, TASKS[name](deadline)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", type=float, default=3.0, help="seconds to run (default 3)")
    args = parser.parse_args()
    # perf_counter is system-wide on Linux, so a deadline computed here holds in the children.
    deadline = time.perf_counter() + args.runtime
    with multiprocessing.Pool(processes=POOL_PROCESSES) as pool:
        results = pool.map(run_task, [(name, deadline) for name in TASKS])
    for name, value in results:
        print(f"{name:<9} {value}")


if __name__ == "__main__":
    main()
