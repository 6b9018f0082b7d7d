"""Comparing two profiles: the function table, its significance test, the collapsed diff, the diff tree and SVG."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from webapp.analysis.collapsed_diff import diff_folded
from webapp.analysis.compare import (
    IMPROVEMENT,
    REGRESSION,
    WITHIN_NOISE,
    compare_profiles,
    difference_interval,
    option_differences,
)
from webapp.analysis.diff_svg import render_diff_svg
from webapp.analysis.diff_tree import diff_tree, diff_tree_from_flame, totals
from webapp.profiles import get_exporter

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
MAIN = ("main", "app.py", 1)


def _stacks(hot: int, other: int, steady: int, gone: int = 0, new: int = 0) -> list:
    """Samples of main -> hot / other / steady (/ gone / new), interleaved as in a real run:
    the same short pattern repeated, not one long block per function."""
    counts = {"hot": hot, "other": other, "steady": steady, "gone": gone, "new": new}
    lines = {"hot": 5, "other": 9, "steady": 12, "gone": 20, "new": 30}
    repeats = math.gcd(*counts.values())
    pattern = [([MAIN, (name, "app.py", lines[name])], count // repeats) for name, count in counts.items() if count]
    return pattern * repeats


def test_a_function_going_from_20_to_40_percent_is_a_significant_regression(build_profile):
    # 1000 samples each: hot 20 % -> 40 %, other 50 % -> 30 %, steady 30 % -> 30 %.
    base = build_profile({"MainThread": _stacks(200, 500, 300)}, name="base")
    head = build_profile({"MainThread": _stacks(400, 300, 300)}, name="head")
    comparison = compare_profiles(base, head)
    rows = {row.name: row for row in comparison.rows}
    hot = rows["hot"]
    assert (hot.base_self_percent, hot.head_self_percent) == (20.0, 40.0)
    assert hot.self_change_points == pytest.approx(20.0)
    assert hot.significant and hot.verdict == REGRESSION
    assert 15 < hot.interval_low_points < 20 < hot.interval_high_points < 25
    assert rows["other"].verdict == IMPROVEMENT
    assert rows["steady"].verdict == WITHIN_NOISE and not rows["steady"].significant
    assert rows["steady"].interval_low_points < 0 < rows["steady"].interval_high_points
    assert rows["main"].verdict == WITHIN_NOISE and rows["main"].total_change_points == 0
    assert comparison.rows[0].name == "hot"  # largest significant regression first
    assert [row.name for row in comparison.regressions] == ["hot"]
    assert comparison.to_dict()["regressed"] is True
    assert "hot (+20.0 points)" in comparison.verdict
    # A threshold above the change lets it pass the gate; below it, not.
    assert not compare_profiles(base, head, threshold_points=25).regressions
    assert compare_profiles(base, head, threshold_points=10).regressions


def test_new_and_vanished_functions_and_small_counts(build_profile):
    base = build_profile({"MainThread": _stacks(100, 100, 100, gone=5)})
    head = build_profile({"MainThread": _stacks(100, 100, 100, new=60)})
    rows = {row.name: row for row in compare_profiles(base, head).rows}
    assert rows["new"].only_in == "head" and rows["new"].verdict == REGRESSION
    assert rows["gone"].only_in == "base" and rows["gone"].verdict == WITHIN_NOISE  # 5 of 305: noise
    assert rows["hot"].only_in is None


def test_the_interval_is_newcombes_and_stays_within_bounds():
    # Newcombe (1998), table II, example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339 for p1 - p2.
    low, high = difference_interval(48, 80, 56, 70)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    low, high = difference_interval(0, 10, 10, 10)
    assert -1 <= low <= high <= 1
    assert difference_interval(0, 100, 0, 100)[0] < 0 < difference_interval(0, 100, 0, 100)[1]


def test_option_differences_name_each_skewing_option():
    base = {"duration_s": 5, "rate_hz": 100, "idle": False, "gil": False, "args": []}
    head = {"duration_s": 10, "rate_hz": 250, "idle": True, "gil": False, "args": ["-n", "3"]}
    assert option_differences(base, head) == [
        "Sampling rate: 100 in base, 250 in head.",
        "Idle threads: off in base, on in head.",
        "Script arguments: none in base, -n 3 in head.",
    ]
    assert option_differences(base, dict(base)) == []


def test_collapsed_diff_equals_difffolded_output():
    base = (FIXTURES / "base.collapsed.txt").read_bytes()
    head = (FIXTURES / "head.collapsed.txt").read_bytes()
    # expected.*.txt: what FlameGraph's difffolded.pl printed for this pair (sorted).
    assert diff_folded(base, head) == (FIXTURES / "expected.difffolded.txt").read_bytes()
    assert diff_folded(base, head, normalize=True) == (FIXTURES / "expected.difffolded-n.txt").read_bytes()


def _difffolded() -> str | None:
    found = os.environ.get("FLAMEGRAPH_DIR")
    path = Path(found) / "difffolded.pl" if found else None
    if path and path.is_file():
        return str(path)
    return shutil.which("difffolded.pl")


@pytest.mark.skipif(not shutil.which("perl") or not _difffolded(),
                    reason="needs Perl and FlameGraph's difffolded.pl (set FLAMEGRAPH_DIR or put it on PATH)")
def test_collapsed_diff_equals_difffolded_run_now(tmp_path):
    base, head = FIXTURES / "base.collapsed.txt", FIXTURES / "head.collapsed.txt"
    for flags, normalize in (([], False), (["-n"], True)):
        printed = subprocess.run(["perl", _difffolded(), *flags, str(base), str(head)],
                                 capture_output=True, check=True).stdout
        ours = diff_folded(base.read_bytes(), head.read_bytes(), normalize=normalize)
        assert sorted(ours.splitlines()) == sorted(printed.splitlines())


def test_the_diff_tree_merges_both_runs_and_the_svg_draws_it(build_profile):
    base = build_profile({"MainThread": _stacks(200, 500, 300, gone=10)}, name="before.py")
    head = build_profile({"MainThread": _stacks(400, 300, 300, new=50)}, name="after.py")
    document = diff_tree(base.function_level(), head.function_level())
    names = document["frames"]["name"]
    labels = [names[f] if f >= 0 else "(root)" for f in document["frame"]]
    assert labels == ["(root)", "main", "gone", "hot", "new", "other", "steady"]
    assert document["depth"] == [0, 1, 2, 2, 2, 2, 2]
    head_totals, base_totals = totals(document, "head"), totals(document, "base")
    assert head_totals[0] == head.sample_count and base_totals[0] == base.sample_count
    assert (base_totals[labels.index("new")], head_totals[labels.index("new")]) == (0, 50)
    svg = render_diff_svg(document).decode()
    assert "Red: more time in head than in base" in svg
    assert "(new: only in head)" in svg and "(gone: only in base)" not in svg  # gone has no width in head
    assert "(gone: only in base)" in render_diff_svg(document, widths="base").decode()
    # hot grew (red), other shrank (blue): the first colour channel tells them apart.
    def fill(label):
        return [int(c) for c in svg.split(label)[1].split('fill="rgb(')[1].split(")")[0].split(",")]

    assert fill("hot app.py:5")[0] > fill("hot app.py:5")[2]
    assert fill("other app.py:9")[0] < fill("other app.py:9")[2]


def test_svg_escapes_names(build_profile):
    evil = [(MAIN[0], MAIN[1], 1), ("<script>alert(1)</script>", "x.py", 2)]
    base = build_profile({"T": [(evil, 5)]})
    svg = render_diff_svg(diff_tree(base, base)).decode()
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_the_diff_tree_has_one_view_per_thread_name_matched_across_runs(build_profile):
    work = [MAIN, ("work", "app.py", 3)]
    base = build_profile({"MainThread": [([MAIN], 10)], "worker": [(work, 30)]})
    head = build_profile({"MainThread": [([MAIN], 10)], "worker": [(work, 50)], "extra": [(work, 5)]})
    base.threads[1].tid, head.threads[1].tid = 101, 202  # thread ids differ from run to run
    document = diff_tree(base, head)
    views = {view["label"]: view for view in document["views"]}
    assert list(views) == ["All threads", "MainThread", "worker", "extra"]
    assert (views["All threads"]["base_samples"], views["All threads"]["head_samples"]) == (40, 65)
    work_node = [document["frames"]["name"][f] if f >= 0 else "" for f in document["frame"]].index("work")
    assert views["worker"]["node"] == [work_node]
    assert (views["worker"]["base_self"], views["worker"]["head_self"]) == ([30], [50])
    assert (views["extra"]["base_samples"], views["extra"]["head_self"]) == (0, [5])
    single = diff_tree(build_profile({"T": [([MAIN], 1)]}), build_profile({"T": [([MAIN], 2)]}))
    assert len(single["views"]) == 1  # one thread: no choice to offer


def test_the_diff_tree_from_two_flame_json_documents_equals_the_one_from_the_profiles(build_profile):
    work, deep = [MAIN, ("work", "lib/x.py", 3)], [MAIN, ("work", "lib/x.py", 3), ("leaf", "app.py", 9)]
    base = build_profile({"MainThread": _stacks(200, 500, 300, gone=10), "worker": [(work, 30), (deep, 7)]},
                         name="app.py")
    head = build_profile({"MainThread": _stacks(400, 300, 300, new=50), "worker": [(deep, 40)], "": [(work, 2)]},
                         name="app.py")
    flame = get_exporter("flame-tree", script_file="app.py")
    from_flame = diff_tree_from_flame(flame.document(base), flame.document(head))
    assert from_flame == diff_tree(base.function_level(), head.function_level())
    assert [view["label"] for view in from_flame["views"]] == ["All threads", "MainThread", "worker",
                                                               "(unnamed thread)"]


def test_the_diff_tree_by_line_keeps_each_sampled_line_apart_in_the_same_shape(build_profile):
    """Grouped by line (the compare page's "Group by line"), hot sampled at lines 6 and 7 is two
    frames, each with both sides' counts; their sum is hot's figure grouped by function."""
    at = lambda line: [MAIN, ("hot", "app.py", line)]  # noqa: E731
    base = build_profile({"MainThread": [(at(6), 30), ([MAIN], 10)], "worker": [(at(7), 5)]}, name="app.py")
    head = build_profile({"MainThread": [(at(6), 20), (at(7), 40), ([MAIN], 10)]}, name="app.py")
    flame = get_exporter("flame-tree", script_file="app.py")
    by_function = diff_tree_from_flame(flame.document(base), flame.document(head))
    by_line = diff_tree_from_flame(flame.document(base), flame.document(head), level="line")
    assert by_line["level"] == "line" and "level" not in by_function
    assert set(by_line) == set(by_function) | {"level"} and set(by_line["frames"]) == set(by_function["frames"])

    def counts(document):
        frames = document["frames"]
        named = [(frames["name"][f], frames["line"][f]) if f >= 0 else ("all", 0) for f in document["frame"]]
        return {name: (b, h) for name, b, h in zip(named, totals(document, "base"), totals(document, "head"))}

    lines, functions = counts(by_line), counts(by_function)
    assert lines[("hot", 6)] == (30, 20) and lines[("hot", 7)] == (5, 40)
    hot = next(key for key in functions if key[0] == "hot")
    assert functions[hot] == (35, 60) and lines[("main", 1)] == functions[("main", 1)] == (45, 70)
    worker = next(view for view in by_line["views"] if view["label"] == "worker")
    frames = by_line["frames"]
    hot_7 = next(node for node, f in enumerate(by_line["frame"])
                 if f >= 0 and (frames["name"][f], frames["line"][f]) == ("hot", 7))
    assert (worker["node"], worker["base_self"], worker["head_self"]) == ([hot_7], [5], [0])
