"""Deleting a report: by whoever holds its delete token, from the page or the API.

The token is shown once, right after submitting (see delete_tokens); API clients
send it back in the X-Delete-Token header.
"""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, url_for

from webapp.store import Report
from webapp.store.deletion import delete_by_owner
from webapp.views.delete_tokens import forget, given_by_page, refusal
from webapp.views.error_responses import error_response
from webapp.views.finished_cache import forget_report
from webapp.views.pages import form_context
from webapp.views.rendering import is_htmx
from webapp.views.reports import load_report
from webapp.views.services import get_store

bp = Blueprint("deletion", __name__, url_prefix="/r")

DELETED_MESSAGE = "The report “{name}” was deleted, with all its files. Its link no longer works."


def delete(report: Report) -> None:
    """Remove the report and its artifacts; a worker running it loses its lease and stops."""
    get_store().run_write(lambda db_session: delete_by_owner(db_session, report, time.time()))
    forget_report(report.token)  # this process stops serving it from memory at once
    forget(report.token)


@bp.post("/<token>/delete")
def delete_from_page(token: str):
    """The Delete button: uses the token this browser holds (or a ``delete_token`` form field)."""
    report = load_report(token)
    reason = refusal(report, given_by_page(token))
    if reason:
        return error_response(reason, 403)
    delete(report)
    notice = DELETED_MESSAGE.format(name=report.script_name)
    home = url_for("pages.index")
    if is_htmx():
        # The home page takes the report's place, and its address the report's history entry:
        # Back then never leads to the deleted report (whose link now answers 410).
        body = render_template("pages/_home.html", as_partial=True, notice=notice, deleted_report=token,
                               **form_context())
        return body, 200, {"HX-Retarget": "#main", "HX-Reswap": "innerHTML show:window:top", "HX-Replace-Url": home}
    flash(notice)
    return redirect(home, 303)
