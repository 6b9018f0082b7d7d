"""Server CPU time of a compare page's first visit, in-process: the diff tree of two 1M-sample runs.

    .venv/bin/python benchmarks/diff_tree.py                 # 1,000,000 samples a side, 5 rounds
    .venv/bin/python benchmarks/diff_tree.py --samples 100000 --rounds 3

Writes the two synthetic py-spy files of ``benchmarks/browser.py`` (``benchmarks/ingest.py``'s
program and its changed second run, ``benchmarks/compare.py``), imports each and keeps its
``flame.json`` and ``function-tree.bin`` compressed as a report stores them. Then times, in CPU
seconds (``time.process_time``, the fastest of ``--rounds``; other work on the machine inflates
wall time, not this), what a first visit's requests cost the server:

* reading both reports' trees: decompress + ``decode`` of ``function-tree.bin`` (the road
  reports take now) and decompress + parse of ``flame.json`` (reports made before it existed);
* the merge (``MergedTree``), the preview (``diff_preview``), the full tree laid out in pre-order
  (``MergedTree.document``) and each one's JSON + gzip, as ``webapp/views/comparisons.py`` sends them.

Both roads' documents are checked to be the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import compare  # noqa: E402  (needs the path above)
from benchmarks.live_app import write_synthetic  # noqa: E402
from webapp.analysis.diff_preview import diff_preview  # noqa: E402
from webapp.analysis.flame_merge import MergedTree  # noqa: E402
from webapp.profiles import get_exporter, load_profile  # noqa: E402
from webapp.profiles.exporters.tree_columns import decode, tree_columns  # noqa: E402
from webapp.store.artifacts import compress  # noqa: E402
from webapp.views.comparisons import DIFF_TREE_GZIP_LEVEL  # noqa: E402


def stored_trees(samples: int, scratch: Path) -> dict[str, dict[str, bytes]]:
    """Per side, its flame.json and function-tree.bin, gzip-compressed as the store keeps them."""
    stored = {}
    for side in ("base", "head"):
        source = scratch / f"{side}.speedscope.json"
        write_synthetic(source, samples, change=compare.change_for_head if side == "head" else None)
        profile = load_profile(source.read_bytes(), source.name)
        source.unlink()
        stored[side] = {name: compress(get_exporter(exporter).render(profile)).gzip_data
                        for name, exporter in (("flame.json", "flame-tree"), ("function-tree.bin", "function-tree"))}
        print(f"{side}: {profile.sample_count:,} samples; flame.json {len(stored[side]['flame.json']) / 1e6:.1f} MB, "
              f"function-tree.bin {len(stored[side]['function-tree.bin']) / 1e6:.1f} MB (gzip)", flush=True)
    return stored


def fastest(rounds: int, work):
    """The least CPU seconds of ``rounds`` runs of ``work()``, and its last result."""
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.process_time()
        result = work()
        best = min(best, time.process_time() - started)
    return best, result


def packed(document: dict) -> bytes:
    return gzip.compress(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY),
                         compresslevel=DIFF_TREE_GZIP_LEVEL, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000, help="samples a side")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the fastest is reported")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flamedeck-diff-bench-") as scratch:
        stored = stored_trees(args.samples, Path(scratch))
    sides = ("base", "head")
    read_binary, columns = fastest(args.rounds, lambda: [
        decode(gzip.decompress(stored[side]["function-tree.bin"])) for side in sides])
    read_json, flames = fastest(args.rounds, lambda: [
        orjson.loads(gzip.decompress(stored[side]["flame.json"])) for side in sides])
    from_json, _ = fastest(args.rounds, lambda: [tree_columns(flame, "function") for flame in flames])
    merging, merged = fastest(args.rounds, lambda: MergedTree(*columns))
    previewing, preview = fastest(args.rounds, lambda: diff_preview(merged))
    laying_out, tree = fastest(args.rounds, merged.document)
    preview_out, preview_data = fastest(args.rounds, lambda: packed(preview))
    tree_out, tree_data = fastest(args.rounds, lambda: packed(tree))
    same = packed(MergedTree(*(tree_columns(flame, "function") for flame in flames)).document()) == tree_data
    print(f"\nCPU seconds, fastest of {args.rounds}: {len(tree['depth']):,} merged nodes, "
          f"preview {len(preview['depth']):,} nodes")
    rows = [
        ("read both function-tree.bin", read_binary),
        ("  (or both flame.json: parse + columns)", read_json + from_json),
        ("merge", merging),
        ("preview", previewing),
        (f"preview JSON + gzip ({len(preview_data) / 1e6:.2f} MB)", preview_out),
        ("first visit's preview, total", read_binary + merging + previewing + preview_out),
        ("full tree laid out in pre-order", laying_out),
        (f"full tree JSON + gzip ({len(tree_data) / 1e6:.1f} MB)", tree_out),
    ]
    for label, seconds in rows:
        print(f"  {label:<44} {seconds:7.3f}")
    print(f"  the same tree from flame.json: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
