"""The shortest run that is reliably sampled: CPU-bound scripts of decreasing CPU time, profiled
through the worker's own pipeline and sandbox, one at a time and several at once.

    .venv/bin/python benchmarks/shortest_run.py [--runs 24] [--at-once 6] [--rate 100]

For each CPU time, --runs scripts that each burn that much CPU (time.process_time, so a busy
machine makes them last longer, never do less) are profiled by ``pipeline.profile_script`` with
the sandbox the settings choose (FLAMEDECK_SANDBOX, as a worker does), first one after another,
then --at-once at a time in threads (as a worker running several jobs does). Prints, per CPU
time, how many runs got samples of the script's own code (the runner's frames are not counted)
and the fewest and median samples, then how the runs without samples ended. A CPU time is
reliably sampled when every run got samples.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from webapp import pipeline  # noqa: E402  (needs the path above)
from webapp.config import load_settings, profiling_limits  # noqa: E402
from webapp.jobs.sandboxing import job_sandbox  # noqa: E402
from webapp.profiling import RunOptions  # noqa: E402

CPU_TIMES_S = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
TIME_LIMIT_S = 10  # far above every script's run time: each ends by itself


def cpu_script(cpu_s: float) -> str:
    return (
        "import time\n"
        f"end = time.process_time() + {cpu_s}\n"
        "while time.process_time() < end:\n"
        "    sum(range(1000))\n"
    )


class Bench:
    """Runs scripts through the pipeline in job directories the sandbox user can reach."""

    def __init__(self, base: Path, rate_hz: int):
        self.base = base
        self.settings = load_settings()
        self.launcher, self.warning = job_sandbox(self.settings)
        self.limits = profiling_limits(self.settings)
        self.options = RunOptions(duration_s=TIME_LIMIT_S, rate_hz=rate_hz)
        self.count = 0

    def samples(self, cpu_s: float) -> tuple[int, str]:
        """Samples of the script's own code in one run (0: none, or the run failed), and how it ended."""
        self.count += 1
        job_dir = self.base / f"job{self.count}"
        job_dir.mkdir()
        job_dir.chmod(0o777)
        script = job_dir / "spin.py"
        script.write_text(cpu_script(cpu_s))
        try:
            report = pipeline.profile_script(script, self.options, job_dir, limits=self.limits,
                                             launcher=self.launcher, python=self.launcher.python)
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)
        samples = report.summary.get("total_samples", 0) if report.produced_profile else 0
        ending = report.summary["outcome"]["message"]
        stderr = report.artifacts.get("stderr.txt", b"").decode(errors="replace").strip().splitlines()
        return samples, ending + (f" [stderr: {stderr[-1]}]" if stderr else "")


def row(cpu_s: float, counts: list[int]) -> str:
    sampled = sum(count > 0 for count in counts)
    verdict = "yes" if sampled == len(counts) else "no"
    return (f"| {cpu_s * 1000:g} ms | {sampled} / {len(counts)} | {min(counts)} | "
            f"{statistics.median(counts):g} | {verdict} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=24, help="runs per CPU time and mode (default %(default)s)")
    parser.add_argument("--at-once", type=int, default=6, help="runs at a time in the second mode (default %(default)s)")
    parser.add_argument("--rate", type=int, default=100, help="sampling rate, Hz (default %(default)s)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="flamedeck-shortest-"))
    base.chmod(0o711)  # the sandbox user traverses it to reach the job directories
    try:
        bench = Bench(base, args.rate)
        print(f"sandbox: {type(bench.launcher).__name__}; {args.rate} Hz; {args.runs} runs per line")
        for label, at_once in (("one at a time", 1), (f"{args.at_once} at once", args.at_once)):
            unsampled: set[str] = set()
            print(f"\n{label}\n\n| CPU time | runs with samples | fewest | median | reliable |\n|---|---|---|---|---|")
            with ThreadPoolExecutor(max_workers=at_once) as pool:
                for cpu_s in CPU_TIMES_S:
                    runs = list(pool.map(bench.samples, [cpu_s] * args.runs))
                    print(row(cpu_s, [count for count, _ in runs]), flush=True)
                    unsampled.update(f"{cpu_s * 1000:g} ms: {ending}" for count, ending in runs if not count)
            if unsampled:
                print("\nruns without samples ended so:\n" + "\n".join(sorted(unsampled)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
