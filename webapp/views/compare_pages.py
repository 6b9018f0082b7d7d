"""The compare page of two reports, its data and downloads, and the "Compare with…" picker."""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import select

from webapp.store import FINAL_STATUSES, Report
from webapp.views import comparisons
from webapp.views.delete_tokens import SESSION_KEY
from webapp.views.downloads import download_stem
from webapp.views.presenters import describe_options, display_file
from webapp.views.reports import load_report
from webapp.views.services import get_store

bp = Blueprint("compare", __name__, url_prefix="/compare")

SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"}
# What static/js/compare/page.js imports, directly or not: preloaded by the page (see compare.html).
COMPARE_MODULES = ("js/compare/diffgraph.js", "js/compare/model.js", "js/compare/diff-controls.js",
                   "js/compare/diff-figures.js", "js/compare/scale.js", "js/flamegraph/tree.js",
                   "js/flamegraph/draw.js", "js/flamegraph/navigate.js", "js/flamegraph/breadcrumbs.js")
PICK_MESSAGE = ("Choose one of your reports, or paste a report's link or id (the part after /r/ in its "
                "address).")


@bp.get("/<base>...<head>")
def show(base: str, head: str):
    """The compare page: differential flamegraph, function table, options and static metrics."""
    pair = comparisons.load_pair(base, head)
    comparisons.start_diff_tree(pair)  # built while the table below is made and the page loads
    document = comparisons.document(pair)
    shown = current_app.config["COMPARE_FUNCTION_ROWS"]
    functions = document["functions"][:shown]
    for row in functions:
        row["where"] = display_file(row["file"], pair.head.script_name)
    tokens = {"base": base, "head": head}
    return render_template(
        "compare.html", pair=pair, doc=document, functions=functions,
        functions_hidden=max(len(document["functions"]) - shown, 0),
        api_url=url_for("api.compare", **tokens),
        base_options=describe_options(pair.base.options), head_options=describe_options(pair.head.options),
        diff_url=url_for("compare.tree", **tokens),
        preview_url=url_for("compare.preview", **tokens),
        collapsed_url=url_for("compare.collapsed", **tokens),
        svg_url=url_for("compare.svg", **tokens),
        swapped_url=url_for("compare.show", base=head, head=base),
        compare_modules=COMPARE_MODULES,
    )


@bp.get("/<base>...<head>/diff.json")
def tree(base: str, head: str):
    """The merged call tree the page's differential flamegraph draws (``?level=line``: grouped by line)."""
    level = "line" if request.args.get("level") == "line" else "function"
    return _json_response(comparisons.diff_tree_gzip(comparisons.load_pair(base, head), level))


@bp.get("/<base>...<head>/diff-preview.json")
def preview(base: str, head: str):
    """The differential flamegraph's first picture: the merged tree cut to the frames it shows."""
    data = comparisons.diff_preview_gzip(comparisons.load_pair(base, head))
    if data is None:
        abort(404, "These reports are compared from their profile files: there is no preview, only the full tree.")
    return _json_response(data)


@bp.get("/<base>...<head>/diff.collapsed.txt")
def collapsed(base: str, head: str):
    """The diff as collapsed stacks with two counts a line (difffolded.pl's format)."""
    pair = comparisons.load_pair(base, head)
    name = f"{download_stem(pair.head.script_name)}.diff.collapsed.txt"
    return Response(comparisons.collapsed_diff(pair), content_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/<base>...<head>/diff.svg")
def svg(base: str, head: str):
    """The differential flamegraph as a standalone SVG (``?widths=base`` sizes frames by the base run)."""
    widths = "base" if request.args.get("widths") == "base" else "head"
    pair = comparisons.load_pair(base, head)
    name = f"{download_stem(pair.head.script_name)}.diff.svg"
    return Response(comparisons.diff_svg(pair, widths), content_type="image/svg+xml",
                    headers=SVG_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/with/<token>")
def pick(token: str):
    """"Compare with…": choose the base for this report, from this browser's reports or a pasted link."""
    report = load_report(token, light=True)
    given = request.args.get("other", "").strip()
    if given:
        other = comparisons.token_from_link(given)
        if other is None:
            return _pick_page(report, f"“{given}” is not a report link or id. {PICK_MESSAGE}"), 400
        if other == token:
            return _pick_page(report, f"That is this report itself. {PICK_MESSAGE}"), 400
        return redirect(url_for("compare.show", base=other, head=token), 303)
    return _pick_page(report)


def _pick_page(report: Report, error: str | None = None) -> str:
    return render_template("compare_pick.html", report=report, error=error, mine=_this_browsers_reports(report))


def _this_browsers_reports(current: Report) -> list:
    """The finished reports this browser made (it holds their delete tokens), newest first."""
    tokens = [pair[0] for pair in session.get(SESSION_KEY, []) if pair[0] != current.token]
    if not tokens:
        return []
    query = (select(Report.token, Report.script_name, Report.created_at, Report.options)
             .where(Report.token.in_(tokens), Report.status.in_(FINAL_STATUSES))
             .order_by(Report.created_at.desc()))
    with get_store().reading() as db:
        return [dict(row._mapping, options_text=describe_options(row.options)) for row in db.execute(query)]


def _json_response(data: bytes) -> Response:
    """Gzip-compressed JSON as it is, or decompressed for a client that does not take gzip."""
    headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"}
    if request.accept_encodings["gzip"] > 0:
        return Response(data, content_type="application/json", headers=headers | {"Content-Encoding": "gzip"})
    return Response(gzip.decompress(data), content_type="application/json", headers=headers)

