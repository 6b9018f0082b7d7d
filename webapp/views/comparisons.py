"""Two stored reports made comparable: load, check, compute once, keep in memory.

Finished reports never change, so neither does their comparison: each web process computes
a pair's function table and diff tree once and keeps them in the finished-report cache.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from typing import Any

import orjson
from flask import abort, url_for
from werkzeug.exceptions import HTTPException

from webapp.analysis.collapsed_diff import diff_folded
from webapp.analysis.compare import Comparison, RunTable, compare_tables
from webapp.analysis.diff_svg import render_diff_svg
from webapp.analysis.diff_tree import diff_tree, readable_flame_tree
from webapp.analysis.diff_preview import diff_preview
from webapp.analysis.flame_merge import MergedTree
from webapp.comparing import FUNCTIONS_ARTIFACT, LINES_ARTIFACT, build_document, read_profile, static_changes
from webapp.profiles import Profile, ProfileFormatError
from webapp.profiles.exporters.tree_columns import TreeColumns, TreeColumnsError, decode, tree_columns
from webapp.store import Report
from webapp.store.artifacts import load_artifact, plain_bytes
from webapp.views.diff_builds import DiffBuild, get_builds
from webapp.views.finished_cache import get_cache
from webapp.views.reports import load_report
from webapp.views.services import get_store

COLLAPSED_ARTIFACT = "profile.collapsed.txt"
FLAME_ARTIFACT = "flame.json"
FUNCTION_TREE_ARTIFACT = "function-tree.bin"  # flame.json's function tree in binary columns
# A report's id as pasted: the id itself, or any link whose path has /r/<id> or ends in it.
REPORT_LINK = re.compile(r"(?:/r/|^)([A-Za-z0-9_-]{8,64})(?:[/?#]|$)")
DIFF_TREE_GZIP_LEVEL = 1  # fastest: the tree is built on a request's time
ROW_BYTES = 400  # what one function row costs in memory, about
PROFILE_RUN_BYTES = 8  # a run of samples in a Profile: two 4-byte array items
PROFILE_FRAME_BYTES = 40  # a frame, or a frame's place in a stack tuple (pointer + int), about


@dataclass
class Pair:
    """Two finished reports with profiles, base first."""

    base: Report
    head: Report


def load_pair(base_token: str, head_token: str) -> Pair:
    """Both reports, or an error page / JSON error saying which one cannot be compared and why."""
    pair = Pair(load_report(base_token), load_report(head_token))
    for side, report in (("base", pair.base), ("head", pair.head)):
        if report.is_pending:
            abort(409, f"The {side} report ({report.script_name}) has not finished yet. "
                       "Compare it once it has: its page shows the progress.")
        if not (report.summary or {}).get("total_samples"):
            reason = (report.outcome or {}).get("message") or "it holds no samples"
            abort(409, f"The {side} report ({report.script_name}) has no profile to compare: {reason}")
    return pair


def token_from_link(text: str) -> str | None:
    """The report id in a pasted link or id, or None when there is none."""
    match = REPORT_LINK.search(text.strip())
    return match.group(1) if match else None


def baseline_section(report: Report) -> dict[str, Any] | None:
    """What a report's API document says of its baseline: links, and once both have ended,
    the comparison or the sentence saying why there is none."""
    if not report.baseline_token:
        return None
    tokens = {"base": report.baseline_token, "head": report.token}
    section: dict[str, Any] = {
        "id": report.baseline_token,
        "url": url_for("reports.show", token=report.baseline_token, _external=True),
        "compare_url": url_for("compare.show", **tokens, _external=True),
        "compare_api_url": url_for("api.compare", **tokens, _external=True),
    }
    if not report.is_pending:
        try:
            section["comparison"] = document(load_pair(report.baseline_token, report.token))
        except HTTPException as error:
            section["error"] = error.description
    return section


def side(report: Report) -> dict[str, Any]:
    """What the comparison document says about one side."""
    summary = report.summary or {}
    return {
        "id": report.token,
        "url": url_for("reports.show", token=report.token, _external=True),
        "api_url": url_for("api.show", token=report.token, _external=True),
        "script_name": report.script_name,
        "kind": report.kind,
        "options": report.options,
        "samples": summary.get("total_samples", 0),
        "interval_s": summary.get("interval_s", 0.0),
        "duration_s": summary.get("duration_s", 0.0),
    }


def comparison_of(pair: Pair) -> Comparison:
    """The pair's function table, computed once per process."""
    key = ("comparison", pair.base.id, pair.head.id)
    comparison = get_cache().get(key)
    if comparison is None:
        tables = [RunTable.of_summary(report.summary or {}) for report in (pair.base, pair.head)]
        if None in tables:  # a report made before summaries kept design effects: from its profile
            tables = [RunTable.of_profile(_profile(report, name))
                      for report, name in ((pair.base, "base"), (pair.head, "head"))]
        comparison = compare_tables(*tables)
        get_cache().put(key, comparison, ROW_BYTES * len(comparison.rows))
    return comparison


def document(pair: Pair, threshold_points: float = 0.0) -> dict[str, Any]:
    """The comparison's JSON document, with links to both reports, the page and the downloads."""
    tokens = {"base": pair.base.token, "head": pair.head.token}
    result = build_document(comparison_of(pair), side(pair.base), side(pair.head), threshold_points)
    result["compare_url"] = url_for("compare.show", **tokens, _external=True)
    result["downloads"] = {
        "collapsed_diff": url_for("compare.collapsed", **tokens, _external=True),
        "diff_svg": url_for("compare.svg", **tokens, _external=True),
    }
    if pair.base.kind == "script" and pair.head.kind == "script":
        result["static_metrics"] = static_changes(pair.base.summary, pair.head.summary)
    return result


def diff_tree_gzip(pair: Pair, level: str = "function") -> bytes:
    """The merged tree the differential flamegraph draws, grouped by ``level`` ("function" or
    "line"), as gzip-compressed JSON built once per process: two long runs make a tree of millions
    of nodes, tens of MB of JSON, a few MB compressed (so it fits the cache, and the browser
    downloads that much less). By line needs both reports' flame.json: a report made before it
    was kept has only its function-level profile, and that says no sampled lines."""
    data = get_cache().get(_tree_key(pair, level))
    return data if data is not None else _take(pair, level, "full")


def diff_preview_gzip(pair: Pair) -> bytes | None:
    """The function tree's preview (see :mod:`webapp.analysis.diff_preview`) as gzip-compressed
    JSON, or None for reports compared from their profile files (the page then waits for the tree)."""
    data = get_cache().get(_preview_key(pair))
    return data if data is not None else _take(pair, "function", "preview")


def start_diff_tree(pair: Pair) -> None:
    """Start building the pair's function tree, unless kept: the page view calls it first, so the
    build runs while the page's table is made and the browser loads the page's scripts."""
    if get_cache().get(_tree_key(pair, "function")) is None:
        _build(pair, "function")


def _tree_key(pair: Pair, level: str) -> tuple:
    return ("diff-tree-gzip", pair.base.id, pair.head.id, level)


def _preview_key(pair: Pair) -> tuple:
    return ("diff-preview-gzip", pair.base.id, pair.head.id)


def _build(pair: Pair, level: str) -> DiffBuild:
    return get_builds().get(_build_key(pair, level), lambda build: _build_tree(pair, level, build))


def _take(pair: Pair, level: str, part: str) -> bytes | None:
    """A part of the pair's build, started in its own thread if needed: the preview is handed
    over while the full tree is still being laid out and compressed."""
    return get_builds().take(_build_key(pair, level), _build(pair, level), part)


def _build_key(pair: Pair, level: str) -> tuple:
    return ("diff-build", pair.base.id, pair.head.id, level)


def _build_tree(pair: Pair, level: str, build: DiffBuild) -> None:
    """Merge the pair's trees; the preview (by function) is handed over first, then the full tree."""
    sides = [_tree_columns(report, level) for report in (pair.base, pair.head)]
    if None not in sides:
        merged = MergedTree(*sides)  # already aggregated: no profile to read
        del sides
        preview = _packed(diff_preview(merged)) if level == "function" else None
        if preview is not None:
            get_cache().put(_preview_key(pair), preview, len(preview))
        else:
            build.untaken.discard("preview")  # nobody asks for it by line
        build.preview.set_result(preview)
        tree = merged.document()  # laid out in pre-order once the preview is on its way
        del merged
    elif level == "line":
        build.untaken.discard("preview")  # nobody asks for it
        abort(409, "These reports cannot be compared line by line: one of them was made before reports "
                   "kept their flame tree. Group by function instead.")
    else:
        build.preview.set_result(None)
        tree = diff_tree(_profile(pair.base, "base"), _profile(pair.head, "head"))
    data = _packed(tree)
    get_cache().put(_tree_key(pair, level), data, len(data))
    build.full.set_result(data)


def _packed(document: dict[str, Any]) -> bytes:
    return gzip.compress(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY),
                         compresslevel=DIFF_TREE_GZIP_LEVEL, mtime=0)


def _tree_columns(report: Report, level: str) -> TreeColumns | None:
    """The report's call tree of ``level``: from its function-tree.bin (by function; reports keep
    one since comparing read it), else from its flame.json; None when it kept neither."""
    with get_store().reading() as session:
        if level == "function":
            stored = load_artifact(session, report.id, FUNCTION_TREE_ARTIFACT)
            if stored is not None:
                try:
                    return decode(plain_bytes(stored))
                except TreeColumnsError:
                    pass  # damaged: flame.json holds the same tree
        stored = load_artifact(session, report.id, FLAME_ARTIFACT)
    document = orjson.loads(plain_bytes(stored)) if stored is not None else None
    return tree_columns(document, level) if readable_flame_tree(document) else None


def diff_svg(pair: Pair, widths: str) -> bytes:
    return render_diff_svg(orjson.loads(gzip.decompress(diff_tree_gzip(pair))), widths=widths)


def collapsed_diff(pair: Pair) -> bytes:
    """``stack base head`` lines, from the two reports' collapsed files."""
    base, head = (_artifact_bytes(report, COLLAPSED_ARTIFACT, side_name)
                  for report, side_name in ((pair.base, "base"), (pair.head, "head")))
    return diff_folded(base, head)


def _artifact_bytes(report: Report, name: str, side_name: str) -> bytes:
    with get_store().reading() as session:
        stored = load_artifact(session, report.id, name)
    if stored is None:
        abort(409, f"The {side_name} report ({report.script_name}) has no {name}, so it cannot be compared.")
    return plain_bytes(stored)


def _profile(report: Report, side_name: str) -> Profile:
    """The report's function-level profile, read once per process: the page and its diff.json
    both need it, and a function-level profile is small next to its file (no per-sample lines)."""
    key = ("function-profile", report.id)
    profile = get_cache().get(key)
    if profile is None:
        profile = _read_profile(report, side_name)
        size = PROFILE_RUN_BYTES * sum(len(thread.counts) for thread in profile.threads) + PROFILE_FRAME_BYTES * (
            len(profile.frames) + sum(map(len, profile.stacks)))
        get_cache().put(key, profile, size)
    return profile


def _read_profile(report: Report, side_name: str) -> Profile:
    with get_store().reading() as session:
        stored = load_artifact(session, report.id, FUNCTIONS_ARTIFACT) or load_artifact(
            session, report.id, LINES_ARTIFACT)
    if stored is None:
        abort(409, f"The {side_name} report ({report.script_name}) has no profile file, so it cannot be compared.")
    try:
        return read_profile(plain_bytes(stored), stored.name)
    except ProfileFormatError as error:
        abort(409, f"The {side_name} report's profile cannot be read: {error}")
