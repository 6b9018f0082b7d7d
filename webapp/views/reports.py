"""A report's page: the live status box while pending, the full report when done."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from sqlalchemy import select

from webapp.store import Report
from webapp.store.lifecycle import request_cancel
from webapp.views.presenters import report_context
from webapp.views.rendering import is_htmx
from webapp.views.services import get_store

bp = Blueprint("reports", __name__, url_prefix="/r")

NOT_FOUND_MESSAGE = "There is no report at this address. Check the link, or profile a script to make a new report."


def load_report(token: str) -> Report:
    """The report with this token, or a 404 page."""
    with get_store().reading() as session:
        report = session.scalar(select(Report).where(Report.token == token))
    if report is None:
        abort(404, NOT_FOUND_MESSAGE)
    return report


def render_report(report: Report, *, partial: bool | None = None) -> str:
    """The report page, or (for htmx) the report region alone."""
    from flask import render_template

    context = report_context(report)
    if partial is None:
        partial = is_htmx()
    # A partial carries the page title too: htmx updates the document's title from it.
    return render_template("reports/_report.html" if partial else "report.html", as_partial=partial, **context)


@bp.get("/<token>")
def show(token: str):
    """Show a report; htmx polls this same URL for the region until the job ends."""
    report = load_report(token)
    response_headers = {}
    if report.is_pending:
        response_headers["Cache-Control"] = "no-store"
    return render_report(report), 200, response_headers


@bp.post("/<token>/cancel")
def cancel(token: str):
    """Cancel a queued job at once, or ask a running one to stop."""
    report = load_report(token)
    with get_store().writing() as session:
        request_cancel(session, report.id)
    if is_htmx():
        return render_report(load_report(token), partial=True)
    return redirect(url_for("reports.show", token=token), 303)
