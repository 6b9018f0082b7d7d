"""The readers of benchmarks/load.py: keep-alive HTTP clients in a few processes of threads.

Each client sends its requests back to back (a closed loop) until the phase ends and
records every latency; the processes (forked) keep one GIL from capping the load.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
LOAD_PROCESSES = 4
REQUEST_TIMEOUT_S = 30


@dataclass
class Stats:
    """Latencies (ms) and failures of one kind of request."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    body_bytes: int = 0
    elapsed_s: float = 0.0  # length of the phase

    def merge(self, other: "Stats") -> None:
        """Add another client's figures to these."""
        self.latencies_ms += other.latencies_ms
        self.errors += other.errors
        self.body_bytes = max(self.body_bytes, other.body_bytes)

    def p(self, percent: int) -> float:
        """The ``percent`` percentile of the latencies, in ms (nearest rank)."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))] if ordered else float("nan")

    @property
    def rate(self) -> float:
        """Requests per second over the phase."""
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0


def run_phase(port: int, paths: list[tuple[str, str]], clients: int, duration_s: float) -> dict[str, Stats]:
    """``clients`` readers over LOAD_PROCESSES processes, each cycling through ``paths`` (kind, path)."""
    processes = min(LOAD_PROCESSES, clients)
    shares = [clients // processes + (index < clients % processes) for index in range(processes)]
    started = time.monotonic()
    stop_at = time.time() + duration_s
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.starmap(_readers, [(port, paths, share, stop_at) for share in shares])
    elapsed_s = time.monotonic() - started
    merged: dict[str, Stats] = {}
    for part in parts:
        for kind, stats in part.items():
            merged.setdefault(kind, Stats()).merge(stats)
    for stats in merged.values():
        stats.elapsed_s = elapsed_s
    return merged


def _readers(port: int, paths: list[tuple[str, str]], threads: int, stop_at: float) -> dict[str, Stats]:
    results = [dict() for _ in range(threads)]
    workers = [threading.Thread(target=_read_loop, args=(port, paths, stop_at, results[index]))
               for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged: dict[str, Stats] = {}
    for result in results:
        for kind, stats in result.items():
            merged.setdefault(kind, Stats()).merge(stats)
    return merged


def _read_loop(port: int, paths: list[tuple[str, str]], stop_at: float, result: dict[str, Stats]) -> None:
    """One client: a keep-alive connection, requests back to back until stop_at."""
    for kind, _ in paths:
        result[kind] = Stats()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    while time.time() < stop_at:
        for kind, path in paths:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok, body = False, b""
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
            stats = result[kind]
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            stats.body_bytes = max(stats.body_bytes, len(body))
            stats.errors += not ok
    connection.close()
