"""The flame tree exporter: flame.json as the in-page flamegraph reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from webapp.profiles.exporters.flame_tree import ORIGINS, ROOT_FRAME, FlameTreeExporter, OriginClassifier, dense_view
from webapp.profiles.model import Frame, Profile

from .support import JSON_LOADS, NASTY_NAME, REQUESTS, SCRIPT, THREADING, XSS_NAME, known_profile

ROOT = Path(__file__).resolve().parents[2]
PY_SPY = ROOT / ".venv" / "bin" / "py-spy"


def document(profile: Profile, script_file: str | None = SCRIPT) -> dict:
    return orjson.loads(FlameTreeExporter(script_file).render(profile))


def children(tree: dict, node: int) -> list[int]:
    """Direct children of ``node`` in a depth-first flat tree."""
    depth = tree["depth"]
    found, i = [], node + 1
    while i < len(depth) and depth[i] > depth[node]:
        if depth[i] == depth[node] + 1:
            found.append(i)
        i += 1
    return found


def node_at(doc: dict, tree: dict, *labels: str) -> int:
    """The node reached from the root by following children with these labels."""
    node = 0
    for label in labels:
        matches = [c for c in children(tree, node) if _label(doc, tree["frame"][c]) == label]
        assert len(matches) == 1, f"{label!r} under node {node}: {matches}"
        node = matches[0]
    return node


def _label(doc: dict, frame: int) -> str:
    name, line = doc["frames"]["name"][frame], doc["frames"]["line"][frame]
    return f"{name}:{line}"


def view_index(doc: dict, view_id: str) -> int:
    return [v["id"] for v in doc["views"]].index(view_id)


def tree_of(doc: dict, view_id: str, level: str = "function") -> dict:
    """The dense tree of one view, read the way the browser reads it."""
    return dense_view(doc, view_index(doc, view_id), level)


def assert_consistent(doc: dict) -> None:
    """Every view's tree is a well-formed pre-order tree with additive totals."""
    frame_count = len(doc["frames"]["name"])
    for level in ("function", "line"):
        shared = doc["trees"][level]
        assert len(shared["depth"]) == len(shared["frame"])
        assert shared["depth"][0] == 0 and shared["frame"][0] == ROOT_FRAME
        for v in doc["views"]:
            assert v[level]["node"] == sorted(set(v[level]["node"])) and all(n > 0 for n in v[level]["self"])
    for index, v in enumerate(doc["views"]):
        for level in ("function", "line"):
            tree = dense_view(doc, index, level)
            depth, frame, own, total = tree["depth"], tree["frame"], tree["self"], tree["total"]
            assert len(depth) == len(frame) == len(own) == len(total)
            assert depth[0] == 0 and frame[0] == ROOT_FRAME
            assert all(d >= 1 for d in depth[1:]), "only node 0 is a root"
            assert all(depth[i] <= depth[i - 1] + 1 for i in range(1, len(depth))), "pre-order: one level at a time"
            assert all(0 <= f < frame_count for f in frame[1:])
            for node in range(len(depth)):
                assert total[node] == own[node] + sum(total[c] for c in children(tree, node)), node
                assert own[node] >= 0 and (node == 0 or total[node] > 0)
            assert total[0] == v["samples"]


def test_document_describes_itself_and_lists_every_view():
    doc = document(known_profile())
    assert doc["format"] == "flamedeck-flame-tree" and doc["version"] == 1
    assert doc["name"] == "app.py" and doc["interval_s"] == 0.01 and doc["sample_count"] == 200
    assert doc["origins"] == list(ORIGINS)
    assert [(v["id"], v["label"], v["kind"], v["samples"]) for v in doc["views"]] == [
        ("all", "All threads", "all", 200),
        ("thread-0", "MainThread", "thread", 100),
        ("thread-1", "worker", "thread", 100),
    ]


def test_every_node_total_is_its_self_plus_its_childrens_totals():
    doc = document(known_profile())
    assert_consistent(doc)
    assert tree_of(doc, "all")["total"][0] == 200


def test_function_tree_merges_lines_and_line_tree_keeps_them_apart():
    doc = document(known_profile())
    function_tree = tree_of(doc, "thread-0", "function")
    line_tree = tree_of(doc, "thread-0", "line")
    compute = node_at(doc, function_tree, "main:1", "compute:10")  # a function's line is its first sampled
    assert (function_tree["total"][compute], function_tree["self"][compute]) == (60, 20)
    assert line_tree["total"][node_at(doc, line_tree, "main:1", "compute:10")] == 40
    assert line_tree["self"][node_at(doc, line_tree, "main:1", "compute:12")] == 20


def test_merged_view_adds_threads_together():
    doc = document(known_profile())
    merged = tree_of(doc, "all")
    assert merged["total"][node_at(doc, merged, "main:1")] == 100
    assert merged["total"][node_at(doc, merged, "run:1000", "work:40", "compute:10")] == 100


def test_siblings_are_ordered_by_function_name():
    doc = document(known_profile())
    tree = tree_of(doc, "thread-0")
    main = node_at(doc, tree, "main:1")
    names = [doc["frames"]["name"][tree["frame"][c]] for c in children(tree, main)]
    assert names == sorted(names) == [XSS_NAME, "compute", "fetch"]


def test_frames_are_classified_by_origin():
    doc = document(known_profile())
    frames = doc["frames"]
    origin_of = {
        frames["name"][i]: doc["origins"][frames["origin"][i]] for i in range(len(frames["name"]))
    }
    assert origin_of["compute"] == "script"
    assert origin_of["loads"] == "stdlib"
    assert origin_of["run"] == "stdlib"
    assert origin_of["fetch"] == "site-packages"
    assert origin_of["native_read"] == "native"
    assert doc["files"][frames["file"][frames["name"].index("loads")]] == JSON_LOADS


@pytest.mark.parametrize(
    ("file", "script_file", "origin"),
    [
        (SCRIPT, SCRIPT, "script"),
        ("/job/app.py", "app.py", "script"),
        ("/job/other.py", SCRIPT, "native"),  # with a known script, other code is "unknown"
        ("/srv/imported/app.py", None, "script"),  # an imported profile: the program's own code
        (JSON_LOADS, SCRIPT, "stdlib"),
        (THREADING, None, "stdlib"),
        ("/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py", None, "stdlib"),
        ("/usr/local/lib64/python3.12/asyncio/events.py", None, "stdlib"),
        ("<frozen importlib._bootstrap>", SCRIPT, "stdlib"),
        ("C:\\Python311\\Lib\\json\\decoder.py", None, "stdlib"),
        (REQUESTS, SCRIPT, "site-packages"),
        ("/usr/lib/python3/dist-packages/numpy/core/numeric.py", None, "site-packages"),
        ("/usr/lib/python3.11/site-packages/six.py", None, "site-packages"),
        ("", SCRIPT, "native"),
        ("", None, "native"),
        ("/usr/lib/x86_64-linux-gnu/libc.so.6", None, "native"),
        ("Objects/listobject.c", None, "native"),
        ("<string>", None, "native"),
    ],
)
def test_origin_classifier(file, script_file, origin):
    assert ORIGINS[OriginClassifier(script_file).origin(file)] == origin


def test_thread_trees_leave_out_other_threads_frames():
    doc = document(known_profile())
    worker = tree_of(doc, "thread-1")
    names = [doc["frames"]["name"][f] for f in worker["frame"][1:]]
    assert names == ["run", "work", "compute"] and worker["total"] == [100, 100, 100, 100]
    assert len(doc["views"][view_index(doc, "thread-1")]["function"]["node"]) == 1  # one leaf: one entry


def test_processes_get_views_when_subprocesses_were_profiled():
    profile = Profile(name="parent.py")
    frame = profile.intern_frame(Frame("f", SCRIPT, 1))
    stack = profile.intern_stack((frame,))
    for process, thread_name, samples in [("pid 10", "MainThread", 3), ("pid 10", "io", 2), ("pid 11", "MainThread", 5)]:
        profile.add_thread(thread_name, process).append(stack, samples)
    doc = document(profile)
    assert [(v["kind"], v["label"], v["samples"]) for v in doc["views"]] == [
        ("all", "All threads", 10),
        ("process", "pid 10", 5),
        ("process", "pid 11", 5),
        ("thread", "pid 10 MainThread", 3),
        ("thread", "pid 10 io", 2),
        ("thread", "pid 11 MainThread", 5),
    ]
    assert doc["views"][view_index(doc, "process-1")]["function"] == doc["views"][view_index(doc, "thread-2")]["function"]
    assert_consistent(doc)


def test_recursion_nests_and_counts_each_sample_once_per_node():
    profile = Profile(name="rec.py")
    a, b = profile.intern_frame(Frame("a", SCRIPT, 1)), profile.intern_frame(Frame("b", SCRIPT, 5))
    profile.add_thread("t").append(profile.intern_stack((a, b, a, b)), 9)
    doc = document(profile)
    tree = tree_of(doc, "all")
    assert tree["depth"] == [0, 1, 2, 3, 4] and tree["total"] == [9] * 5 and tree["self"] == [0, 0, 0, 0, 9]


def test_no_per_sample_data_reaches_the_document():
    def profile_with(samples_per_run: int, runs: int) -> Profile:
        profile = Profile(name="big.py")
        f, g = profile.intern_frame(Frame("f", SCRIPT, 1)), profile.intern_frame(Frame("g", SCRIPT, 2))
        thread = profile.add_thread("t")
        for k in range(runs):  # alternate, so every run is a separate run in the model
            thread.append(profile.intern_stack((f,) if k % 2 else (f, g)), samples_per_run)
        return profile

    small = FlameTreeExporter(SCRIPT).render(profile_with(1, 10))
    large = FlameTreeExporter(SCRIPT).render(profile_with(1000, 10_000))
    assert orjson.loads(large)["sample_count"] == 10_000_000
    assert len(large) < len(small) + 100  # only the counts' digits grow


def test_names_are_data_not_markup_and_unencodable_text_is_replaced():
    profile = known_profile()
    odd = profile.intern_frame(Frame("bad\ud800name\x00\n", "/job/\x1bapp.py", 3))
    profile.threads[0].append(profile.intern_stack((odd,)), 1)
    doc = document(profile)
    names = doc["frames"]["name"]
    assert XSS_NAME in names and NASTY_NAME in names  # kept verbatim: the page only uses textContent
    assert "bad\ufffdname\ufffd\ufffd" in names
    assert "/job/\ufffdapp.py" in doc["files"]
    assert_consistent(doc)


def test_empty_profile_and_idle_thread_render():
    profile = Profile(name="empty.py")
    assert_consistent(document(profile))
    profile.add_thread("idle")
    doc = document(profile)
    assert [v["samples"] for v in doc["views"]] == [0, 0]
    assert tree_of(doc, "thread-0") == {"depth": [0], "frame": [ROOT_FRAME], "self": [0], "total": [0]}


def test_exporter_contract():
    exporter = FlameTreeExporter(script_file=SCRIPT)
    assert (exporter.name, exporter.file_suffix, exporter.media_type) == ("flame-tree", ".flame.json", "application/json")
    first = exporter.render(known_profile())
    assert isinstance(first, bytes) and first == exporter.render(known_profile())
    assert FlameTreeExporter().render(known_profile())  # every option has a default


@pytest.mark.slow
def test_real_py_spy_profile(tmp_path):
    """A script profiled by py-spy: its own frames are "script", json's are "stdlib"."""
    from webapp.profiles import load_profile

    script = tmp_path / "spin.py"
    script.write_text(
        "import json, time\n"
        "def work():\n"
        "    started = time.time()\n"
        "    while time.time() - started < 0.8:\n"
        "        json.loads('{\"a\": [1, 2, 3]}')\n"
        "work()\n"
    )
    output = tmp_path / "spin.speedscope.json"
    subprocess.run(
        [str(PY_SPY), "record", "--format", "speedscope", "-o", str(output), "-r", "200", "--", sys.executable, str(script)],
        check=True, capture_output=True, timeout=60,
    )
    profile = load_profile(output.read_bytes(), output.name)
    doc = document(profile, script_file=str(script))
    assert_consistent(doc)
    frames = doc["frames"]
    origins = {(frames["name"][i], doc["origins"][frames["origin"][i]]) for i in range(len(frames["name"]))}
    assert ("work", "script") in origins and ("loads", "stdlib") in origins
    assert doc["sample_count"] == profile.sample_count > 50
