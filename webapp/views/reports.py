"""A report's page: the live status box while pending, the full report when done."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from markupsafe import Markup
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import defer

from webapp.store import FINAL_STATUSES, Report
from webapp.store.lifecycle import request_cancel
from webapp.views.delete_tokens import CANCEL, given_by_page, held_token, refusal, take_token_to_show
from webapp.views.error_responses import error_response
from webapp.views.finished_cache import find_report, get_cache
from webapp.views.missing_reports import abort_missing
from webapp.views.presenters import details_context, header_context
from webapp.views.rendering import is_htmx
from webapp.views.services import get_store

bp = Blueprint("reports", __name__, url_prefix="/r")


# Columns a page view does not need once the finished report's tables are cached:
# the script (up to MAX_SCRIPT_BYTES) and the summary (JSON, large for big profiles).
HEAVY_COLUMNS = ("script_source", "summary")
# Built once: every page view of a report that is not cached runs it.
LIGHT_QUERY = select(Report).where(Report.token == bindparam("token")).options(
    *(defer(getattr(Report, name), raiseload=True) for name in HEAVY_COLUMNS))


def load_report(token: str, *, light: bool = False) -> Report:
    """The report with this token, or a 404 (410 if deleted) page. ``light`` leaves out the script and the summary."""
    with get_store().reading() as session:
        if light:
            report = session.scalar(LIGHT_QUERY, {"token": token})
        else:
            report = session.scalar(select(Report).where(Report.token == token))
    if report is None:
        abort_missing(token)
    return report


def render_report(report: Report, *, partial: bool | None = None) -> str:
    """The report page, or (for htmx) the report region alone."""
    context = header_context(report) | _details(report)
    # Only the browser that created the report (it holds the delete token) may delete it or cancel its job.
    context["can_delete"] = held_token(report.token) is not None
    context["can_cancel"] = context["can_delete"] and report.is_pending
    if context["can_delete"] and not report.is_pending and report.kind == "script":
        from webapp.views.rerun import rerun_fields  # the one-click "Run again" (reports/_rerun_header.html)

        full = load_report(report.token)
        context["rerun_fields"] = rerun_fields(full) if full.script_source else None
    # Shown on the first view after submitting (the page, or the htmx swap), outside the
    # region that polls, so it stays on screen until the reader leaves the page.
    context["new_delete_token"] = take_token_to_show(report.token)
    if partial is None:
        partial = is_htmx()
    # A partial carries the page title too: htmx updates the document's title from it.
    template = "reports/_report.html" if partial else "report.html"
    if partial and context["new_delete_token"]:
        template = "reports/_created.html"
    return render_template(template, as_partial=partial, **context)


def _details(report: Report) -> dict:
    """The finished report's tables, rendered once per process (they never change), and what the
    header needs from its summary. Nothing while the job is pending: the status box shows then."""
    if report.is_pending:
        return {}
    key = ("details", report.token, report.id)
    cached = get_cache().get(key)
    if cached is None:
        full = load_report(report.token) if inspect(report).unloaded & set(HEAVY_COLUMNS) else report
        context = details_context(full)
        html = Markup(render_template("reports/_details.html", report=full, **context))
        cached = {"details_html": html, "outcome": context["outcome"], "unsandboxed": context["unsandboxed"],
                  "has_flamegraph": bool(context["flame_url"] and context["summary"].get("total_samples"))}
        get_cache().put(key, cached, len(html))
    return cached


@bp.get("/<token>")
def show(token: str):
    """Show a report; htmx polls this same URL for the region until the job ends."""
    # A finished report looks the same to every reader without its delete token: it is
    # rendered once per process and served from memory.
    found = find_report(token)
    if found is None:
        abort_missing(token)
    cacheable = found.status in FINAL_STATUSES and _same_for_every_reader(token)
    key = ("page", token, found.id, request.host_url, is_htmx())
    if cacheable and (page := get_cache().get(key)) is not None:
        return page
    report = load_report(token, light=True)
    if report.is_pending:
        return render_report(report), 200, {"Cache-Control": "no-store"}
    page = render_report(report)
    if cacheable:
        get_cache().put(key, page, len(page))
    return page


def _same_for_every_reader(token: str) -> bool:
    # The holder of the delete token sees a Delete button (with a CSRF token); a pending
    # flash message is shown once, to one browser.
    return held_token(token) is None and not session.get("_flashes")


@bp.post("/<token>/cancel")
def cancel(token: str):
    """The Cancel button: stop a queued job at once, or ask a running one to stop; needs the delete token."""
    report = load_report(token)
    reason = refusal(report, given_by_page(token), CANCEL)
    if reason:
        return error_response(reason, 403)
    with get_store().writing() as session:
        request_cancel(session, report.id)
    if is_htmx():
        return render_report(load_report(token), partial=True)
    return redirect(url_for("reports.show", token=token), 303)
