"""Run again: the same script with the same options, or the form pre-filled to edit first.

The new report names the old one as its baseline, so its page links to the comparison. Both
forms post to the ordinary submission route (/reports) with the session's CSRF token. A finished
report's page is cached and served alike to every reader who does not hold its delete token,
so it cannot carry a CSRF token: only the browser that made the report (whose page is never
cached) gets the one-click "Run again" button in the report's header; every reader gets
"Run again…", this page, with the same button above the pre-filled form.
"""

from __future__ import annotations

import shlex

from flask import Blueprint, abort, render_template

from webapp.store import SCRIPT, Report
from webapp.views.pages import form_context
from webapp.views.reports import load_report

bp = Blueprint("rerun", __name__, url_prefix="/r")

FLAGS = ("idle", "gil", "native", "subprocesses", "nonblocking")
NOT_A_SCRIPT = "Only a profiled script can be run again; this report is an imported profile."


def rerun_fields(report: Report) -> dict[str, str]:
    """The submission form's fields that repeat this report's run, as the new report's baseline."""
    options = report.options or {}
    fields = {
        "source": "code",
        "code": report.script_source or "",
        "script_name": report.script_name,
        "baseline": report.token,
        "duration": str(options.get("duration_s", "")),
        "rate": str(options.get("rate_hz", "")),
        "args": shlex.join(options.get("args") or []),
    }
    fields.update({flag: "1" for flag in FLAGS if options.get(flag)})
    return fields


def _script_report(token: str) -> Report:
    report = load_report(token)
    if report.kind != SCRIPT or not report.script_source:
        abort(404, NOT_A_SCRIPT)
    return report


@bp.get("/<token>/again")
def again(token: str):
    """The "Run again" button and the form pre-filled with this report's script and options."""
    report = _script_report(token)
    fields = rerun_fields(report)
    return render_template("rerun.html", report=report, rerun_fields=fields, **form_context(fields))

