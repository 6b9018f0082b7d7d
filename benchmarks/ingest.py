"""Ingest benchmark: a million-sample py-spy file through import, statistics and every export.

    .venv/bin/python benchmarks/ingest.py                 # 1,000,000 samples, temp file
    .venv/bin/python benchmarks/ingest.py --samples 100000  # quick run
    .venv/bin/python benchmarks/ingest.py --file /tmp/big.speedscope.json  # keep the file
    options: --repeat N (fresh-process runs, the fastest is shown; default 3), --skip-peer

It writes a synthetic speedscope file laid out exactly like ``py-spy record
--format speedscope`` output (about 3,000 line-level frames, stacks up to 60
deep, 4 threads, runs of repeated stacks as in real programs; seeded, so every
run is the same), then measures, each in a fresh process:

* flamedeck: read the file, ``load_profile``, ``function_stats`` and every
  registered exporter (default options) - wall seconds per step, total, peak
  RSS; the machine is shared, so the fastest of ``--repeat`` runs is shown
  (all totals are printed) and the worst peak RSS is judged;
* the peer figure: a plain ``orjson.loads`` of the same file.

Targets on the 2-core reference machine: total <= 3 s, peak RSS <= 600 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES_DEFAULT = 1_000_000
THREADS = 4
FUNCTIONS = 800
LINES_PER_FUNCTION = 4  # line-level frames: FUNCTIONS x LINES_PER_FUNCTION = 3,200
SOURCE_FILES = 60
CALLEES_PER_FUNCTION = 6
MIN_DEPTH, MODE_DEPTH, MAX_DEPTH = 3, 36, 60
DISTINCT_STACKS_PER_THREAD = 5_000
MEAN_RUN_SAMPLES = 5  # a stack repeats ~5 samples in a row before the program moves on
NEIGHBOUR_STEP = 3  # most moves go to a nearby stack of the pool (shared prefix), a few jump
JUMP_PROBABILITY = 0.05
INTERVAL_S = 0.01
SEED = 20_240_601
TARGET_TOTAL_S = 3.0
TARGET_PEAK_RSS_MB = 600.0
ROOT = Path(__file__).resolve().parent.parent


# -- the synthetic file ---------------------------------------------------------
def _frames_json() -> list[bytes]:
    frames = []
    for function in range(FUNCTIONS):
        module = function % SOURCE_FILES
        name = f"Worker{module}.step_{function}" if function % 3 else f"helper_{function}"
        first_line = 10 + 40 * (function // SOURCE_FILES)
        for offset in range(LINES_PER_FUNCTION):
            frames.append(
                b'{"name":"%s","file":"/srv/app/pkg/module_%d.py","line":%d,"col":null}'
                % (name.encode(), module, first_line + 3 * offset + 1)
            )
    return frames


def _stack_pool(rng: random.Random, root_function: int) -> list[bytes]:
    """Distinct stacks of one thread, each derived from the one before (shared prefixes)."""
    callees = [[rng.randrange(FUNCTIONS) for _ in range(CALLEES_PER_FUNCTION)] for _ in range(FUNCTIONS)]
    pool: dict[tuple[int, ...], None] = {}
    functions = [root_function]
    while len(pool) < DISTINCT_STACKS_PER_THREAD:
        keep = max(1, len(functions) - int(rng.expovariate(1 / 4)) - 1)
        functions = functions[:keep]
        depth = int(rng.triangular(MIN_DEPTH, MAX_DEPTH, MODE_DEPTH))
        while len(functions) < depth:
            functions.append(rng.choice(callees[functions[-1]]))
        frames = tuple(f * LINES_PER_FUNCTION + rng.randrange(LINES_PER_FUNCTION) for f in functions)
        pool.setdefault(frames, None)
    # py-spy lists a stack root first, like speedscope wants
    return [b"[" + b",".join(b"%d" % frame for frame in stack) + b"]" for stack in pool]


def _thread_samples(rng: random.Random, pool: list[bytes], samples: int) -> bytes:
    """``samples`` stacks in time order: runs of one stack, mostly moving to a neighbour."""
    chosen: list[bytes] = []
    position = 0
    while len(chosen) < samples:
        run = 1 + int(rng.expovariate(1 / (MEAN_RUN_SAMPLES - 1)))
        chosen.extend([pool[position]] * min(run, samples - len(chosen)))
        if rng.random() < JUMP_PROBABILITY:
            position = rng.randrange(len(pool))
        else:
            position = (position + rng.randint(-NEIGHBOUR_STEP, NEIGHBOUR_STEP)) % len(pool)
    return b",".join(chosen)


def write_pyspy_file(path: Path, samples: int) -> None:
    """A py-spy 0.4.3 style speedscope file with ``samples`` samples over THREADS threads."""
    rng = random.Random(SEED)
    names = ["MainThread"] + [f"worker-{k}" for k in range(1, THREADS)]
    weight = b"%g" % INTERVAL_S
    with path.open("wb") as out:
        out.write(b'{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[')
        for k, name in enumerate(names):
            share = samples // THREADS + (1 if k < samples % THREADS else 0)
            pool = _stack_pool(rng, root_function=k)
            out.write(b"," if k else b"")
            out.write(
                b'{"type":"sampled","name":"Thread %d \\"%s\\"","unit":"seconds","startValue":0.0,'
                b'"endValue":%.2f,"samples":[' % (1000 + k, name.encode(), share * INTERVAL_S)
            )
            out.write(_thread_samples(rng, pool, share))
            out.write(b'],"weights":[' + b",".join([weight] * share) + b"]}")
        out.write(b'],"shared":{"frames":[' + b",".join(_frames_json()) + b"]},")
        out.write(b'"activeProfileIndex":null,"exporter":"py-spy@0.4.3","name":"py-spy profile"}')


# -- measurements, each in a fresh process ---------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Steps:
    """Wall time and peak RSS so far after each step of one child run."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def run(self, label: str, action):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = action()
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
        self.rows.append({"label": label, "seconds": seconds, "cpu_s": cpu_s, "peak_mb": _peak_rss_mb()})
        return result

    def note(self, text: str) -> None:
        self.rows.append({"label": text, "seconds": None, "cpu_s": None, "peak_mb": None})


def measure_flamedeck(path: Path) -> dict:
    """Child process: time each step of ingest; return figures as a dict."""
    from webapp.profiles import EXPORTERS, load_profile

    try:
        from webapp.analysis.stats import function_stats
    except ImportError:  # written by another change; time what exists
        function_stats = None
    baseline_mb = _peak_rss_mb()
    steps = _Steps()
    data = steps.run("read file", path.read_bytes)
    profile = steps.run("import (load_profile)", lambda: load_profile(data, path.name))
    if function_stats is not None:
        steps.run("function statistics", lambda: function_stats(profile))
    else:
        steps.note("function statistics: webapp.analysis.stats missing, not timed")
    for name, exporter_class in EXPORTERS.items():
        output = steps.run(f"export {name}", lambda: exporter_class().render(profile))
        steps.note(f"  {name} output: {len(output) / 1e6:.1f} MB")
        del output
    return {
        "steps": steps.rows,
        "peak_rss_mb": _peak_rss_mb(),
        "baseline_rss_mb": baseline_mb,
        "samples": profile.sample_count,
        "runs": sum(len(thread.counts) for thread in profile.threads),
        "distinct_stacks": len(profile.stacks),
        "frames": len(profile.frames),
    }


def measure_orjson(path: Path) -> dict:
    """Child process: the peer figure, a plain orjson.loads of the whole file."""
    import orjson

    steps = _Steps()
    data = steps.run("read file", path.read_bytes)
    steps.run("orjson.loads", lambda: orjson.loads(data))
    return {"steps": steps.rows, "peak_rss_mb": _peak_rss_mb()}


def generate(path: Path, samples: int) -> dict:
    """Child process: write the synthetic file (kept out of the parent, see _in_fresh_process)."""
    started = time.perf_counter()
    write_pyspy_file(path, samples)
    return {"seconds": time.perf_counter() - started, "mb": path.stat().st_size / 1e6}


CHILD_MODES = {
    "--child-generate": generate,
    "--child-flamedeck": measure_flamedeck,
    "--child-orjson": measure_orjson,
}


def _in_fresh_process(mode: str, *args: object) -> dict:
    """Run one step in a new interpreter and return its JSON answer.

    Linux carries ru_maxrss across fork+exec, so the parent stays small (it
    never holds the file) and each child's figure is its own.
    """
    command = [sys.executable, str(Path(__file__).resolve()), mode, *map(str, args)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if completed.returncode:
        raise SystemExit(f"{mode} failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def _total_s(figures: dict, column: str = "seconds") -> float:
    return sum(row[column] for row in figures["steps"] if row[column] is not None)


def _print_table(title: str, figures: dict) -> None:
    print(f"\n{title}")
    print(f"  {'step':<40} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}")
    for row in figures["steps"]:
        if row["seconds"] is None:
            print(f"  {row['label']}")
        else:
            print(f"  {row['label']:<40} {row['seconds']:8.3f} {row['cpu_s']:8.3f} {row['peak_mb']:12.0f}")
    total, cpu = _total_s(figures), _total_s(figures, "cpu_s")
    print(f"  {'total':<40} {total:8.3f} {cpu:8.3f} {figures['peak_rss_mb']:12.0f}")


def main(argv: list[str] | None = None) -> int:
    """Generate the file, measure flamedeck and the orjson peer, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=SAMPLES_DEFAULT, help="samples in the synthetic file")
    parser.add_argument("--file", type=Path, help="where to write the file (kept); default: a temp dir")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs; the fastest is shown")
    parser.add_argument("--skip-peer", action="store_true", help="do not measure plain orjson.loads")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flamedeck-bench-") as scratch:
        path = args.file or Path(scratch) / "synthetic.speedscope.json"
        written = _in_fresh_process("--child-generate", path, args.samples)
        print(f"wrote {path} ({written['mb']:.0f} MB, {args.samples:,} samples) "
              f"in {written['seconds']:.1f} s")
        runs = [_in_fresh_process("--child-flamedeck", path) for _ in range(max(args.repeat, 1))]
        ours = min(runs, key=_total_s)
        peak_mb = max(run["peak_rss_mb"] for run in runs)
        print(f"profile: {ours['samples']:,} samples, {ours['runs']:,} runs, "
              f"{ours['distinct_stacks']:,} distinct stacks, {ours['frames']:,} frames; "
              f"interpreter + imports: {ours['baseline_rss_mb']:.0f} MB")
        totals = ", ".join(f"{_total_s(run):.2f}" for run in runs)
        _print_table(f"flamedeck, fastest of {len(runs)} fresh processes (totals: {totals} s)", ours)
        if not args.skip_peer:
            peer = _in_fresh_process("--child-orjson", path)
            _print_table("peer: plain orjson.loads (fresh process)", peer)
    total = _total_s(ours)
    met = total <= TARGET_TOTAL_S and peak_mb <= TARGET_PEAK_RSS_MB
    print(f"\ntargets: total <= {TARGET_TOTAL_S} s, peak RSS <= {TARGET_PEAK_RSS_MB:.0f} MB "
          f"(worst run {peak_mb:.0f} MB): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] in CHILD_MODES:
        print(json.dumps(CHILD_MODES[sys.argv[1]](Path(sys.argv[2]), *map(int, sys.argv[3:]))))
    else:
        sys.exit(main())
