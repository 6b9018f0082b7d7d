"""End-to-end overhead of the web app over a bare py-spy run.

For a 2-second CPU-bound script, measures in the same session, alternating:
  * bare:  ``py-spy record --format speedscope`` of the script with the same options;
  * e2e:   submit through the JSON API of a real ``flamedeck serve`` -> report "done"
           (queue, sandbox, py-spy, import, analysis, export, storage, polling).
Prints each pair and the median of (e2e - bare). Target: <= 0.5 s.

    .venv/bin/python benchmarks/e2e.py [--runs 5] [--rate 100]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.web.live import free_port, http_json, serve, wait_until_ended  # noqa: E402  (needs the path above)
from webapp.profiling import find_pyspy  # noqa: E402

SCRIPT_RUNTIME_S = 2.0
TIME_LIMIT_S = 10  # well above the script's runtime: the script ends by itself in both runs
POLL_INTERVAL_S = 0.02  # how often the e2e run asks whether the report is done
TARGET_OVERHEAD_S = 0.5
CPU_BOUND_SCRIPT = f"""\
import time

def spin(seconds):
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(i * i for i in range(200))
    return total

spin({SCRIPT_RUNTIME_S})
"""


def bare_run(script: Path, output: Path, rate_hz: int) -> float:
    """Seconds for py-spy alone to record the script."""
    command = [find_pyspy(), "record", "--format", "speedscope", "--rate", str(rate_hz),
               "--duration", str(TIME_LIMIT_S), "--output", str(output), "--", sys.executable, str(script)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def e2e_run(base_url: str, rate_hz: int) -> float:
    """Seconds from submitting the script to the API until its report is done."""
    started = time.perf_counter()
    status, created = http_json("POST", base_url + "/api/v1/reports",
                                {"code": CPU_BOUND_SCRIPT, "duration": str(TIME_LIMIT_S), "rate": str(rate_hz)})
    if status != 202:
        raise SystemExit(f"submission refused: {created}")
    document = wait_until_ended(base_url, created["id"], poll_s=POLL_INTERVAL_S)
    elapsed = time.perf_counter() - started
    if document["status"] != "done":
        raise SystemExit(f"the report ended {document['status']}: {document.get('outcome')}")
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured pairs (default 5, at least 5)")
    parser.add_argument("--rate", type=int, default=100, help="sampling rate in Hz (default 100)")
    args = parser.parse_args(argv)
    runs = max(args.runs, 5)
    with tempfile.TemporaryDirectory(prefix="flamedeck-bench-") as scratch:
        scratch_dir = Path(scratch)
        script = scratch_dir / "cpu_bound.py"
        script.write_text(CPU_BOUND_SCRIPT)
        log_path = scratch_dir / "serve.log"
        with serve(scratch_dir / "data", free_port(), workers=1, log_path=log_path, fast=False) as (_process, base_url):
            e2e_run(base_url, args.rate)  # warm-up: imports, first database pages
            bare_run(script, scratch_dir / "warmup.speedscope.json", args.rate)
            pairs = []
            for run in range(1, runs + 1):
                bare = bare_run(script, scratch_dir / f"bare-{run}.speedscope.json", args.rate)
                e2e = e2e_run(base_url, args.rate)
                pairs.append((bare, e2e))
                print(f"run {run}: bare py-spy {bare:.3f} s, submit -> done {e2e:.3f} s, "
                      f"overhead {e2e - bare:+.3f} s", file=sys.stderr)
    overheads = [e2e - bare for bare, e2e in pairs]
    median = statistics.median(overheads)
    print("| runs | median bare py-spy | median submit -> done | median overhead | target |")
    print("|---|---|---|---|---|")
    print(f"| {runs} | {statistics.median(b for b, _ in pairs):.2f} s | {statistics.median(e for _, e in pairs):.2f} s "
          f"| {median:+.2f} s | <= {TARGET_OVERHEAD_S} s |")
    return 0 if median <= TARGET_OVERHEAD_S else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
