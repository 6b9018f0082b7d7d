"""The diff tree from tree columns: the binary function tree a report keeps, and the merge's
agreement with the node-by-node diff tree on many random pairs of profiles."""

from __future__ import annotations

import random

import orjson
import pytest

from webapp.analysis.diff_preview import diff_preview
from webapp.analysis.diff_tree import diff_tree, diff_tree_from_flame, totals
from webapp.analysis.flame_merge import MergedTree, merge_tree_columns
from webapp.profiles import get_exporter
from webapp.profiles.exporters.tree_columns import TreeColumnsError, decode, encode, tree_columns

FUNCTIONS = [("main", "app.py"), ("parse", "app.py"), ("parse", "lib/x.py"), ("walk", "app.py"),
             ("loads", "/usr/lib/python3.11/json/decoder.py"), ("hash", "app.py"), ("zeta", "app.py"),
             ("Alpha", "app.py")]


def _random_threads(rng: random.Random, threads: list[str]) -> dict[str, list]:
    """Random deep stacks over a few functions (recursion included) at a few lines each."""
    result = {}
    for thread in threads:
        runs = []
        for _ in range(rng.randint(1, 40)):
            depth = rng.randint(1, 12)
            stack = [(*rng.choice(FUNCTIONS), rng.randint(1, 3)) for _ in range(depth)]
            runs.append((stack, rng.randint(1, 9)))
        result[thread] = runs
    return result


def _jsonable(document: dict) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


@pytest.mark.parametrize("seed", range(40))
def test_the_merge_of_flame_trees_equals_the_node_by_node_diff_tree(build_profile, seed):
    rng = random.Random(seed)
    base = build_profile(_random_threads(rng, rng.sample(["MainThread", "worker", "io"], rng.randint(1, 3))),
                         name="app.py")
    head = build_profile(_random_threads(rng, rng.sample(["MainThread", "worker", "pool"], rng.randint(1, 3))),
                         name="app.py")
    flame = get_exporter("flame-tree", script_file="app.py")
    expected = diff_tree(base.function_level(), head.function_level())
    assert diff_tree_from_flame(flame.document(base), flame.document(head)) == expected
    # From the parsed flame.json, and from the binary function tree a report keeps: the same bytes.
    parsed = [orjson.loads(flame.render(profile)) for profile in (base, head)]
    binary = [decode(get_exporter("function-tree").render(profile)) for profile in (base, head)]
    assert _jsonable(merge_tree_columns(*binary)) == _jsonable(expected)
    assert _jsonable(merge_tree_columns(*(tree_columns(doc, "function") for doc in parsed))) == _jsonable(expected)
    by_line = diff_tree_from_flame(*parsed, level="line")
    assert by_line["level"] == "line" and sum(by_line["head_self"]) == head.sample_count


def test_tree_columns_survive_their_binary_form(build_profile):
    profile = build_profile({"MainThread": [([("main", "app.py", 1), ("hot", "app.py", 5)], 3)],
                             "worker": [([("main", "app.py", 1)], 2)]}, name="app.py")
    columns = tree_columns(get_exporter("flame-tree").document(profile), "function")
    again = decode(encode(columns))
    assert (again.names, again.files, again.lines, again.name, again.sample_count) == (
        columns.names, columns.files, columns.lines, "app.py", 5)
    for column in ("level_sizes", "parent", "frame"):
        assert getattr(again, column).tolist() == getattr(columns, column).tolist()
    assert columns.level_sizes.tolist() == [1, 1, 1] and columns.parent.tolist() == [-1, 0, 0]
    assert [(v.kind, v.label, v.samples, v.node.tolist(), v.self.tolist()) for v in again.views] == [
        (v.kind, v.label, v.samples, v.node.tolist(), v.self.tolist()) for v in columns.views]
    assert encode(again) == encode(columns)


@pytest.mark.parametrize("damage", [lambda data: b"{}", lambda data: data[:-9], lambda data: data[:60]])
def test_damaged_tree_columns_are_a_clear_error(build_profile, damage):
    profile = build_profile({"T": [([("main", "app.py", 1)], 1)]})
    data = get_exporter("function-tree").render(profile)
    with pytest.raises(TreeColumnsError, match="tree-columns file"):
        decode(damage(data))


@pytest.mark.parametrize("min_share", [1e-4, 0.01, 0.2])
@pytest.mark.parametrize("seed", range(8))
def test_the_previews_colour_limit_is_the_whole_trees(build_profile, seed, min_share):
    """The largest change (where the colour scale saturates) over every node, as the page computes
    it from the full tree, whether or not the preview could leave the cut nodes out."""
    rng = random.Random(seed)
    runs = _random_threads(rng, ["MainThread"])
    base = build_profile(runs, name="app.py", interval_s=0.01)
    head = build_profile(runs if seed % 2 else _random_threads(rng, ["MainThread"]), name="app.py",
                         interval_s=0.005)
    merged = MergedTree(*(tree_columns(get_exporter("flame-tree").document(p), "function") for p in (base, head)))
    full = merged.document()
    largest = diff_preview(merged, min_share=min_share)["preview"]["largest_change"]
    document = {key: value.tolist() if hasattr(value, "tolist") else value for key, value in full.items()}
    base_totals, head_totals = totals(document, "base"), totals(document, "head")
    samples = (full["views"][0]["base_samples"], full["views"][0]["head_samples"])
    expected = {"share": 0.0, "time": 0.0}
    for b, h in list(zip(base_totals, head_totals))[1:]:
        if b or h:
            expected["share"] = max(expected["share"], abs(100 * (h / samples[1] - b / samples[0])))
            expected["time"] = max(expected["time"], abs(h * 0.005 - b * 0.01))
    assert largest == expected


@pytest.mark.parametrize("frame_count", [3, 70_000])
def test_tree_columns_keep_parents_and_frames_whatever_their_size(frame_count):
    """Parents are stored as steps within each level, frames in 16 bits when they fit."""
    import numpy as np

    from webapp.profiles.exporters.tree_columns import TreeColumns, TreeView

    columns = TreeColumns(
        level="function", name="app.py", interval_s=0.01, sample_count=6,
        names=[f"f{i}" for i in range(frame_count)], files=["app.py"] * frame_count, lines=[1] * frame_count,
        level_sizes=np.array([1, 2, 3]), parent=np.array([-1, 0, 0, 0, 1, 1]),
        frame=np.array([-1, 0, 1, 2, frame_count - 1, 0]),
        views=[TreeView("all", "All threads", 6, np.array([3, 4, 5]), np.array([1, 2, 3]))])
    again = decode(encode(columns))
    assert again.parent.tolist() == [-1, 0, 0, 0, 1, 1]
    assert again.frame.tolist() == [-1, 0, 1, 2, frame_count - 1, 0]
