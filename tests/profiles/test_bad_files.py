"""Bad files of every format get one sentence naming the format and the problem."""

from __future__ import annotations

import gzip
import json
import marshal
from pathlib import Path

import pytest

from webapp.profiles import ProfileFormatError
from webapp.profiles.importers import read_profile
from webapp.profiles.importers.pprof_schema import ProfileMessage

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def fixture(name: str) -> bytes:
    return (FORMATS / name).read_bytes()


def document(name: str) -> dict:
    return json.loads(fixture(name))


def edited(name: str, edit) -> bytes:
    data = document(name)
    edit(data)
    return json.dumps(data).encode()


def pprof(edit) -> bytes:
    message = ProfileMessage.FromString(gzip.decompress(fixture("go-style.pb.gz")))
    edit(message)
    return message.SerializeToString()


def gecko_thread(edit):
    return edited("cpython315.gecko.json", lambda d: edit(d["threads"][0]))


def nested(depth: int) -> bytes:
    return b'{"root_frame":' + b'{"children":[' * depth + b"]}" * depth + b"}"


def cpuprofile_chain(length: int) -> bytes:
    """A .cpuprofile whose call tree is one chain ``length`` deep, every node sampled."""
    nodes = [{"id": i, "callFrame": {"functionName": f"f{i}", "url": "a.js", "lineNumber": 1},
              "children": [i + 1] if i + 1 < length else []} for i in range(length)]
    return json.dumps({"nodes": nodes, "samples": list(range(length)), "timeDeltas": [1] * length}).encode()


def gecko_chain(length: int) -> bytes:
    """A processed Firefox profile whose stack table is one chain ``length`` deep."""
    thread = {"samples": {"stack": [length - 1]}, "stackTable": {"frame": [0] * length,
              "prefix": [None, *range(length - 1)]}, "frameTable": {"func": [0]}, "funcTable": {"name": [0]}}
    return json.dumps({"meta": {"interval": 1}, "threads": [thread], "shared": {"stringArray": ["f"]}}).encode()


def negative_pstats() -> bytes:
    stats = marshal.loads(fixture("cprofile.prof"))
    key = next(iter(stats))
    stats[key] = (1, 1, -0.5, 1.0, stats[key][4])
    return marshal.dumps(stats)


CASES = [
    # collapsed stacks
    ("collapsed-no-count", b"main;work 3\nmain;idle\n", "collapsed-stack file has a line without a count"),
    ("collapsed-huge-count", b"main;work 3\nmain;idle 1e999\n", "collapsed-stack file has a weight that is not a finite"),
    # perf script
    ("perf-truncated", fixture("perf.script.txt")[:300] + b"\nthis is not perf\n", "perf script file has a line that is neither"),
    # Austin
    ("austin-text-metric", b"# austin: 3.7.0\nP1;T0:1;f.py:main:1 ten\n", "Austin file has a sample whose time is not a whole number"),
    ("austin-memory", b"# austin: 3.7.0\n# mode: memory\nP1;T0:1;f.py:main:1 10\n", "Austin file is a memory profile"),
    # Chrome .cpuprofile
    ("cpuprofile-truncated", fixture("node.cpuprofile")[:-40], "Chrome .cpuprofile file ends in the middle"),
    ("cpuprofile-bad-sample", edited("node.cpuprofile", lambda d: d["samples"].append(999999)),
     "Chrome .cpuprofile file has a sample of node 999999"),
    ("cpuprofile-negative-delta-type", edited("node.cpuprofile", lambda d: d.__setitem__("timeDeltas", "x")),
     "timeDeltas that are not a list"),
    ("cpuprofile-cycle", edited("node.cpuprofile", lambda d: d["nodes"][1].setdefault("children", []).append(1)),
     "Chrome .cpuprofile file has nodes whose parents form a cycle"),
    # Trace Event
    ("trace-truncated", fixture("viztracer.json")[:500], "Trace Event file ends in the middle"),
    ("trace-negative-duration", edited("viztracer.json", lambda d: d["traceEvents"][4].__setitem__("dur", -5)),
     "Trace Event file has a negative weight"),
    ("trace-text-timestamp", edited("pyspy.chrometrace.json", lambda d: d[0].__setitem__("ts", "soon")),
     "Trace Event file has a B event without a numeric timestamp"),
    ("trace-no-durations", b'{"traceEvents":[{"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"x"}}]}',
     "Trace Event file has no duration events"),
    # pprof
    ("pprof-truncated", gzip.decompress(fixture("go-style.pb.gz"))[:-7], "pprof file"),
    ("pprof-gzip-truncated", fixture("go-style.pb.gz")[:-12], "gzip-compressed file ends in the middle"),
    ("pprof-missing-location", pprof(lambda m: m.sample[0].location_id.append(999)),
     "pprof file has a sample at location 999, which it does not define"),
    ("pprof-string-out-of-range", pprof(lambda m: m.function[0].__setattr__("name", 10_000)),
     "pprof file refers to string 10000"),
    ("pprof-negative-value", pprof(lambda m: m.sample[0].value.__setitem__(0, -3)), "pprof file has a negative weight"),
    ("pprof-heap", pprof(lambda m: (m.string_table.extend(["inuse_space", "bytes"]),
                                    [m.sample_type.pop() for _ in range(2)],
                                    m.sample_type.add(type=len(m.string_table) - 2, unit=len(m.string_table) - 1),
                                    [s.value.pop() for s in m.sample])),
     "holds inuse_space in bytes"),
    # pyinstrument
    ("pyinstrument-deep-nesting", nested(2000), "pyinstrument file is nested more deeply"),
    ("pyinstrument-text-time", edited("pyinstrument.json", lambda d: d["root_frame"].__setitem__("time", "long")),
     "pyinstrument file has a weight that is not a number"),
    ("pyinstrument-children-type", edited("pyinstrument.json", lambda d: d["root_frame"].__setitem__("children", 3)),
     "pyinstrument file has a frame whose children are not a list"),
    # Firefox Profiler / Gecko
    ("gecko-stack-out-of-range", gecko_thread(lambda t: t["samples"]["stack"].__setitem__(0, 500)),
     "Firefox Profiler (Gecko) file has a sample of stack 500"),
    ("gecko-prefix-loop", gecko_thread(lambda t: t["stackTable"]["prefix"].__setitem__(0, 3)),
     "has a stack whose prefix 3 is not an earlier stack"),
    ("gecko-string-out-of-range", gecko_thread(lambda t: t["funcTable"]["name"].__setitem__(0, 9999)),
     "refers to string 9999"),
    ("gecko-bytes", gecko_thread(lambda t: t["samples"].__setitem__("weightType", "bytes")), "weighs its samples in bytes"),
    ("gecko-negative-weight", gecko_thread(lambda t: t["samples"].__setitem__("weight", [-1] * len(t["samples"]["stack"]))),
     "Firefox Profiler (Gecko) file has a negative weight"),
    ("gecko-nan-weight", fixture("cpython315.gecko.json").replace(b'"weight":null', b'"weight":[NaN]'),
     "Firefox Profiler (Gecko) file is not valid JSON"),
    ("gecko-infinite-weight", fixture("cpython315.gecko.json").replace(b'"weight":null', b'"weight":[1e999]'),
     "Firefox Profiler (Gecko) file holds a number that is infinite"),
    # speedscope (evented)
    ("speedscope-evented-bad-event", edited("pyinstrument.speedscope.json",
                                            lambda d: d["profiles"][0]["events"].append({"type": "X", "at": 1, "frame": 0})),
     "is not an open (O) or close (C) event"),
    ("speedscope-evented-frame-out-of-range", edited("pyinstrument.speedscope.json",
                                                     lambda d: d["profiles"][0]["events"].insert(0, {"type": "O", "at": 0, "frame": 10**6})),
     "refers to frame 1000000"),
    # cProfile / pstats
    ("pstats-truncated", fixture("cprofile.prof")[:-100], "cProfile (pstats) file ends in the middle of a value"),
    ("pstats-code-object", b"\xfb)\x03c" + b"\0" * 40, "holds a value of marshal type 'c'"),
    ("pstats-negative-time", negative_pstats(), "cProfile (pstats) file has a negative weight"),
    ("pstats-wrong-shape", marshal.dumps({("a", 1, "f"): (1, 2)}), "has an entry that is not (file, line, function)"),
    # stacks deeper than any program's (a chain of nodes or stack rows)
    ("cpuprofile-deep-chain", cpuprofile_chain(5_050), "Chrome .cpuprofile file has a stack deeper than 5,000 frames"),
    ("gecko-deep-chain", gecko_chain(5_050), "Firefox Profiler (Gecko) file has a stack deeper than 5,000 frames"),
    ("trace-deep-nesting", json.dumps([{"ph": "X", "ts": i, "dur": 20_000 - 2 * i, "name": "f", "pid": 1, "tid": 1}
                                       for i in range(5_050)]).encode(), "Trace Event file has a stack deeper"),
    # every format
    ("gzip-bomb", gzip.compress(b"main;work 1\n" + b" " * (9 * 1024 * 1024)), "expands to more than 8,388,608 bytes"),
    ("unknown", b"\x00\x01\x02 not a profile", "is not in a profile format flamedeck can read"),
    ("empty", b"  \n", "The file is empty"),
]


@pytest.mark.parametrize(("data", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_bad_file_gets_a_sentence_naming_the_format_and_the_problem(data, expected):
    with pytest.raises(ProfileFormatError) as caught:
        read_profile(data, "upload", max_decompressed_bytes=8 * 1024 * 1024)
    message = str(caught.value)
    assert expected in message
    assert message.endswith(".") and "\n" not in message
