"""The differential flamegraph's preview draws what the full tree draws: the page's own model
(static/js/compare/model.js) lays out both in real Chromium, and every frame, place, width,
colour figure and hover figure agrees."""

from __future__ import annotations

import random

import numpy as np
import orjson
import pytest

from webapp.analysis.diff_preview import diff_preview
from webapp.analysis.flame_merge import MergedTree
from webapp.profiles import get_exporter
from webapp.profiles.exporters.tree_columns import tree_columns
from webapp.profiles.model import Frame, Profile

CUT_SHARE = 0.004  # high, so that this small pair has frames cut on both sides
CHECK_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>preview check</title>
<link rel="icon" href="data:,"><script type="module" src="preview-check.js"></script></head><body></body></html>"""
CHECK_MODULE = """
import { DiffTree } from "/static/js/compare/model.js";
const [full, preview] = await Promise.all(
  ["full.diff.json", "cut.diff.json"].map((url) => fetch(url).then((response) => response.json())));
const trees = [new DiffTree(full), new DiffTree(preview)];
const smallest = 2 * preview.preview.min_share;  // one pixel of the widest page the preview draws exactly
const result = { drawable: [trees[0].draws(0, smallest), trees[1].draws(0, smallest), trees[1].draws(0, smallest / 4),
                            trees[1].draws(3, smallest)] };
for (const widths of ["head", "base"]) {
  result[widths] = trees.map((tree) => tree.layout(widths, 0, smallest).map((box) => [
    tree.label(box.node), box.row, box.x, box.width, tree.change(box.node, "share"), tree.change(box.node, "time"),
    tree.total.base[box.node], tree.total.head[box.node], tree.self.base[box.node], tree.self.head[box.node]]));
}
result.largest = trees.map((tree) => [tree.largestChange("share"), tree.largestChange("time")]);
window.previewCheck = result;
"""


def _many_small_frames(seed: int, interval_s: float) -> Profile:
    """A run with a few wide frames and many narrow ones, at several depths."""
    rng = random.Random(seed)
    profile = Profile(name="app.py", interval_s=interval_s)
    thread = profile.add_thread("MainThread")
    names = [f"f{i}" for i in range(60)]
    for _ in range(400):
        depth = rng.randint(1, 8)
        frames = [Frame("main", "app.py", 1)] + [Frame(rng.choice(names[:4] if d < 2 else names), "app.py", 10)
                                                 for d in range(depth)]
        stack = profile.intern_stack(tuple(profile.intern_frame(frame) for frame in frames))
        thread.append(stack, rng.choice([1, 1, 1, 2, 40]))
    return profile


def test_the_preview_lays_out_and_colours_exactly_as_the_full_tree(harness, page):
    flame = get_exporter("flame-tree", script_file="app.py")
    base, head = (tree_columns(flame.document(_many_small_frames(seed, interval)), "function")
                  for seed, interval in ((1, 0.01), (2, 0.005)))
    merged = MergedTree(base, head)
    full, cut = merged.document(), diff_preview(merged, min_share=CUT_SHARE)
    assert 0 < len(cut["depth"]) < len(full["depth"]) / 2  # frames were cut
    for name, document in (("full", full), ("cut", cut)):
        harness.add_file(f"{name}.diff.json", orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY))
    harness.add_file("preview-check.js", CHECK_MODULE.encode())
    page.goto(harness.add_file("preview-check.html", CHECK_PAGE.encode()))
    page.wait_for_function("window.previewCheck !== undefined")
    result = page.evaluate("window.previewCheck")
    assert result["drawable"] == [True, True, False, False]  # not wider than it serves, not zoomed
    assert result["largest"][0] == result["largest"][1]
    for widths in ("head", "base"):
        from_full, from_cut = result[widths]
        assert len(from_full) == len(from_cut) > 10
        for drawn, previewed in zip(from_full, from_cut):
            assert drawn[:2] == previewed[:2] and drawn[4:] == previewed[4:]
            assert drawn[2:4] == pytest.approx(previewed[2:4], abs=1e-12)  # x and width: sums in another order
    assert not page.problems.errors


def test_the_preview_keeps_every_frame_as_wide_as_its_share_and_their_totals():
    flame = get_exporter("flame-tree", script_file="app.py")
    base, head = (tree_columns(flame.document(_many_small_frames(seed, 0.01)), "function") for seed in (3, 4))
    merged = MergedTree(base, head)
    full, cut = merged.document(), diff_preview(merged, min_share=CUT_SHARE)
    totals = {side: _totals(full["depth"], full[f"{side}_self"]) for side in ("base", "head")}
    wide = [node for node in range(len(full["depth"]))
            if any(totals[side][node] >= CUT_SHARE * totals[side][0] for side in totals)]
    assert len(cut["depth"]) == len(wide) and cut["frame"].tolist() == full["frame"][wide].tolist()
    for side in ("base", "head"):
        kept_totals = _totals(cut["depth"], cut[f"{side}_self"] + cut["preview"][f"{side}_hidden"])
        assert kept_totals.tolist() == totals[side][wide].tolist()


def _totals(depth, selves) -> np.ndarray:
    total = np.array(selves, dtype=np.float64)
    chain: list[int] = []
    parent = []
    for node, level in enumerate(depth.tolist()):
        del chain[level:]
        parent.append(chain[-1] if chain else -1)
        chain.append(node)
    for node in range(len(total) - 1, 0, -1):
        total[parent[node]] += total[node]
    return total
