"""A simulated request loop: a few hot CPU functions under a dispatcher.

What it shows: the classic flamegraph. ``handle_request`` dispatches each fake
request to ``process_data`` (sorting and summing), ``compute_intensive_work``
(which calls the recursive ``fibonacci``) or ``find_primes`` (which calls
``is_prime`` in a loop). The naive ``fibonacci`` and ``is_prime`` should top
the hot-function table; ``fibonacci`` also shows recursion counted once.

Run:  python server_simulation.py --runtime 2.5
"""

import argparse
import random
import time


def fibonacci(n):
    """Naive recursive Fibonacci: deliberately slow."""
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)


def is_prime(n):
    """Trial division, one candidate divisor at a time."""
    if n < 2:
        return False
    for divisor in range(2, int(n**0.5) + 1):
        if n % divisor == 0:
            return False
    return True


def find_primes(limit):
    """All primes below ``limit``, found the slow way."""
    return [n for n in range(limit) if is_prime(n)]


def compute_intensive_work(size):
    """A mix of recursion and arithmetic."""
    return fibonacci(size) + sum(i * i for i in range(size * 200))


def process_data(records):
    """Sort, filter and aggregate a batch of records."""
    ordered = sorted(records, key=lambda record: (record["score"], record["id"]))
    kept = [record for record in ordered if record["score"] > 0.2]
    return sum(record["score"] for record in kept) / max(len(kept), 1)


def make_records(rng, count):
    return [{"id": i, "score": rng.random()} for i in range(count)]


def handle_request(rng, kind):
    """Dispatch one fake request to the function that serves it."""
    if kind == "report":
        return process_data(make_records(rng, 2000))
    if kind == "compute":
        return compute_intensive_work(rng.randint(18, 21))
    return len(find_primes(rng.randint(4000, 8000)))


def serve(runtime_s, seed):
    """Serve fake requests until ``runtime_s`` seconds have passed."""
    rng = random.Random(seed)
    served = {"report": 0, "compute": 0, "primes": 0}
    deadline = time.perf_counter() + runtime_s
    while time.perf_counter() < deadline:
        kind = rng.choice(list(served))
        handle_request(rng, kind)
        served[kind] += 1
    return served


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", type=float, default=2.5, help="seconds to run (default 2.5)")
    parser.add_argument("--seed", type=int, default=42, help="random seed for the request mix")
    args = parser.parse_args()
    started = time.perf_counter()
    served = serve(args.runtime, args.seed)
    elapsed = time.perf_counter() - started
    total = sum(served.values())
    print(f"served {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s)")
    for kind, count in served.items():
        print(f"  {kind:<8} {count}")


if __name__ == "__main__":
    main()
