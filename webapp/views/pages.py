"""The home page: the form to profile a script or import a profile."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, request, url_for

from webapp.jobs.environments import describe_environment
from webapp.views.delete_tokens import remember
from webapp.views.examples import example_choices
from webapp.views.rendering import is_htmx, page_or_partial
from webapp.views.reports import render_report
from webapp.views.submission import BadInput, create_report
from webapp.views.upload_token import FORM_FIELD, form_asks_for_it, form_refusal

bp = Blueprint("pages", __name__)

CREATED_EVENT = "flamedeck:report-created"  # an htmx event; JSON-escaped, so any script name is a safe header


@bp.get("/")
def index():
    """Show the profile and import forms."""
    return page_or_partial("index.html", "pages/_submit.html", **form_context())


@bp.post("/reports")
def submit():
    """Create a report from the form; 303 to its page (htmx: swap its status box in).

    That page shows the delete token once; this browser keeps it for the Delete button.
    """
    reason = form_refusal()
    if reason:
        return render_index_with_error(reason, 403, field=FORM_FIELD)
    try:
        created = create_report(request.form, request.files)
    except BadInput as error:
        return render_index_with_error(error.message, error.status_code, error.headers, field=error.field)
    report = created.report
    remember(report.token, created.delete_token)
    url = url_for("reports.show", token=report.token)
    if not is_htmx():
        return redirect(url, 303)
    # Replace the whole main area with the report region and put its link in the address bar;
    # the event lets this browser add the report to its own list of recent reports (home.js).
    return render_report(report, partial=True), 200, {
        "HX-Push-Url": url, "HX-Retarget": "#main", "HX-Reswap": "innerHTML",
        "HX-Trigger": json.dumps({CREATED_EVENT: {"id": report.token, "title": report.script_name,
                                                  "status": report.status, "url": url}}),
    }


def render_index_with_error(message: str, status_code: int, headers: dict[str, str] | None = None,
                            field: str | None = None):
    """The form again, with the sentence saying what was wrong (at ``field`` if given), and the error status."""
    # After a 413 the body was never read; reading the form now would fail the same way.
    readable = request.content_length is None or request.content_length <= current_app.config["MAX_UPLOAD_BYTES"]
    form = request.form if readable else {}
    error_for = "import" if readable and request.files.get("profile") else "script"
    body = page_or_partial("index.html", "pages/_submit.html", error=message, error_for=error_for,
                           error_field=field, **form_context(form))
    return body, status_code, headers or {}


def form_context(form=None) -> dict:
    """What the home page's forms need: examples, limits, defaults and the values to show again."""
    config = current_app.config
    return {
        "examples": example_choices(),
        "values": form or {},
        "ask_upload_token": form_asks_for_it(),
        "environment": describe_environment(config),
        "defaults": {"duration": config["DEFAULT_DURATION_S"], "rate": config["DEFAULT_RATE_HZ"],
                     "coverage": config["COVERAGE_BY_DEFAULT"]},
        "limits": {"duration": config["MAX_DURATION_S"], "rate": config["MAX_RATE_HZ"],
                   "upload": config["MAX_UPLOAD_BYTES"], "script": config["MAX_SCRIPT_BYTES"],
                   "project_files": config["MAX_PROJECT_FILES"], "project_bytes": config["MAX_PROJECT_BYTES"]},
    }
