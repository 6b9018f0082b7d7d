"""Every input format, on files made by the real tools (tests/fixtures/formats/README.md
says which were written to the format's published description instead)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from webapp.analysis import function_stats
from webapp.profiles import get_exporter, load_profile
from webapp.profiles.importers import read_profile

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"

# file -> (importer, threads, a function that must be among the three hottest (by self), threads' names)
CASES = {
    "pyspy.raw.txt": ("collapsed", 1, "is_prime", None),
    "flamedeck.collapsed.txt": ("collapsed", 1, "spin", None),
    "annotated.folded": ("collapsed", 1, "parse", None),
    "perf.script.txt": ("perf-script", 2, "_PyEval_EvalFrameDefault", ["python 6147 (cpu-clock)", "python 6147 (page-faults)"]),
    "perf-inline.script.txt": ("perf-script", 1, "hash_bytes", ["app 4242/4243"]),
    "node.cpuprofile": ("cpuprofile", 1, "countPrimes", None),
    "pyspy.chrometrace.json": ("trace-event", 1, "is_prime", None),
    "viztracer.json": ("trace-event", 1, "count_primes.<locals>.<genexpr>", ["MainThread"]),
    "chromium.trace.json": ("trace-event", 1, "isPrime", ["CrRendererMain"]),
    "chromium.cpuprofile": ("cpuprofile", 1, "isPrime", None),
    "go-style.pb.gz": ("pprof", 1, "is_prime", None),
    "go-cpu.pb.gz": ("pprof", 1, "main.isPrime", None),
    "pyinstrument.json": ("pyinstrument", 1, "is_prime", None),
    "pyinstrument.speedscope.json": ("speedscope", 1, "is_prime", None),
    "cpython315.gecko.json": ("gecko", 2, "is_prime", ["MainThread", "worker"]),
    "firefox-raw.gecko.json": ("gecko", 1, "is_prime", ["GeckoMain"]),
    "austin.txt": ("austin", 2, "is_prime", None),
    "austin-full.txt": ("austin", 2, "is_prime.<locals>.<genexpr>", None),
    "cprofile.prof": ("pstats", 1, "<genexpr>", None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_real_file_is_recognised_by_content_and_read(name, thread_runs):
    importer, threads, hot, thread_names = CASES[name]
    data = (FORMATS / name).read_bytes()
    imported = read_profile(data, "upload.bin")  # a name that says nothing: content decides
    profile = imported.profile
    assert imported.format == importer
    assert profile.sample_count > 0 and len(profile.threads) == threads
    assert profile.interval_s > 0 and profile.duration_s > 0
    hottest = [stat.name for stat in function_stats(profile)[:3]]
    assert hot in hottest, hottest
    if thread_names:
        assert [thread.display_name for thread in profile.threads] == thread_names
    # Any format converts to speedscope and back without losing a sample or a stack.
    again = load_profile(get_exporter("speedscope", line_level=True).render(profile))
    assert thread_runs(again) == thread_runs(profile)


def test_frames_keep_files_and_lines_where_the_format_has_them():
    def frames(name):
        return {(f.name, f.file, f.line) for f in load_profile((FORMATS / name).read_bytes()).frames}

    assert ("is_prime", "workload.py", 7) in frames("pyspy.raw.txt")
    assert ("count_primes", "/tmp/fxtools/workload.py", 10) in frames("viztracer.json")
    assert ("countPrimes", next(f for _, f, _ in frames("node.cpuprofile") if f.endswith("work.js")), 2) in frames(
        "node.cpuprofile")
    assert ("is_prime", "/tmp/fxtools/workload.py", 7) in frames("austin.txt")
    assert ("kernel_entry", "[kernel]", 0) in frames("annotated.folded")  # the _[k] annotation
    perf = frames("perf.script.txt")
    assert any(file == "[kernel.kallsyms]" for _, file, _ in perf)
    assert any(name.startswith("[unknown]") for name, _, _ in perf)
    assert {("mix_round", "", 0), ("mix", "", 0)} <= frames("perf-inline.script.txt")  # inlined frames
    pprof = frames("go-style.pb.gz")
    assert {("count_primes", "workload.py", 11), ("<genexpr>", "workload.py", 11)} <= pprof  # an inlined pair
    assert any(name == "0x7f12ab" for name, _, _ in pprof)  # an address without symbols
    go = load_profile((FORMATS / "go-cpu.pb.gz").read_bytes())  # real Go: isPrime inlined into countPrimes
    inlined = [stack for stack in map(go.frame_stack, go.stack_counts()) if stack and stack[-1].name == "main.isPrime"]
    assert inlined and inlined[0][-2].name == "main.countPrimes"


def test_decimal_counts_are_kept_exactly():
    profile = load_profile((FORMATS / "annotated.folded").read_bytes())
    counts = {profile.frame_stack(s)[-1].name: n for s, n in profile.stack_counts().items()}
    assert counts == {"parse": 300, "do_syscall": 150, "jit_loop": 225, "inline_helper": 25}


def test_pstats_import_is_labelled_an_approximation_and_its_total_is_the_runtime():
    imported = read_profile((FORMATS / "cprofile.prof").read_bytes(), "cprofile.prof")
    assert "approximation" in imported.approximation
    assert imported.profile.duration_s == pytest.approx(2.525, abs=0.01)  # the run's cumulative time
    assert all(item.approximation == "" for item in [read_profile((FORMATS / "pyspy.raw.txt").read_bytes())])


def test_a_trace_is_weighed_by_time_and_both_trace_forms_read_the_same(thread_runs):
    document = json.loads((FORMATS / "viztracer.json").read_bytes())
    as_object = load_profile(json.dumps(document).encode())
    as_array = load_profile(json.dumps(document["traceEvents"]).encode())
    assert thread_runs(as_object) == thread_runs(as_array)
    total = sum(e["dur"] for e in document["traceEvents"] if e.get("ph") == "X" and e["name"] == "main (/tmp/fxtools/workload.py:22)")
    assert as_object.sample_count * as_object.interval_s == pytest.approx(total * 1e-6, rel=0.01)


def test_a_gzipped_json_or_text_profile_is_read_like_the_plain_one(thread_runs):
    for name in ("viztracer.json", "pyspy.raw.txt"):
        data = (FORMATS / name).read_bytes()
        assert thread_runs(load_profile(gzip.compress(data))) == thread_runs(load_profile(data))


def test_a_speedscope_file_from_another_producer_with_sampled_and_evented_profiles_and_columns():
    frames = [{"name": "main", "file": "app.js", "line": 1, "col": 1},
              {"name": "render", "file": "app.js", "line": 9, "col": 14},
              {"name": "render", "file": "app.js", "line": 9, "col": 40}]  # same line, another column
    document = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {"type": "sampled", "name": "worker", "unit": "milliseconds", "startValue": 0, "endValue": 30,
             "samples": [[0, 1], [0, 2], [0]], "weights": [10, 10, 10]},
            {"type": "evented", "name": "main", "unit": "milliseconds", "startValue": 0, "endValue": 40,
             "events": [{"type": "O", "frame": 0, "at": 0}, {"type": "O", "frame": 1, "at": 10},
                        {"type": "C", "frame": 1, "at": 30}, {"type": "C", "frame": 0, "at": 40}]},
        ],
    }
    profile = load_profile(json.dumps(document).encode())
    assert [thread.name for thread in profile.threads] == ["worker", "main"]
    del document["$schema"]  # some converters leave it out: the structure still says speedscope
    assert read_profile(json.dumps(document).encode()).format == "speedscope"
    seconds = {thread.name: {tuple(f.name for f in profile.frame_stack(s)): n * profile.interval_s
                             for s, n in thread.stack_counts().items()} for thread in profile.threads}
    assert seconds["worker"] == pytest.approx({("main", "render"): 0.02, ("main",): 0.01})  # columns merged
    assert seconds["main"] == pytest.approx({("main",): 0.02, ("main", "render"): 0.02})


def test_digits_that_are_not_ascii_are_not_a_line_number():
    """Found by the fuzz test: "¹" is a digit to str.isdigit but not to int()."""
    assert load_profile("main;f (a.py:¹) 3\n".encode()).frames[-1].line == 0
    assert load_profile("P1;T0:1;a.py:f:¹ 3\n".encode()).frames[-1].line == 0
