"""JSON API v1: the same handlers as the form, for curl and CI."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from webapp.compare_text import format_markdown
from webapp.jobs.environments import describe_environment
from webapp.jobs.sandboxing import sandbox_warning

from webapp.store import Report
from webapp.store.lifecycle import request_cancel
from webapp.views import comparisons
from webapp.views.delete_tokens import CANCEL, DELETE_TOKEN_HEADER, refusal
from webapp.views.deletion import delete
from webapp.views.presenters import artifact_url, report_context, speedscope_url
from webapp.views.reports import load_report
from webapp.views.services import get_store
from webapp.views.submission import BadInput, create_report
from webapp.views.upload_token import api_refusal

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.post("/reports")
def create():
    """Submit a script (file, code or example) or a profile to import: 202 with the report's links.

    On a server with an upload token, only with ``Authorization: Bearer <token>``; else 401.

    The response carries the report's delete token, the only time it is ever shown.
    ---
    post:
      summary: Submit a script to profile, or a profile to import
      security: [{}, {uploadToken: []}]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: Submission
      responses:
        "202":
          description: Stored; a script or a big import is queued, a small import is finished.
          headers:
            Location: {description: The report's API document., schema: {type: string}}
          content:
            application/json:
              schema: Created
        "400":
          description: The fields do not make a valid submission; nothing was stored.
          content:
            application/json:
              schema: Error
        "401":
          description: This server needs its upload token.
          content:
            application/json:
              schema: Error
        "413":
          description: The upload or the script is larger than the server allows.
          content:
            application/json:
              schema: Error
        "429":
          description: Too many submissions from this address; see Retry-After.
          content:
            application/json:
              schema: Error
        "503":
          description: The queue is full; see Retry-After.
          content:
            application/json:
              schema: Error
    """
    reason = api_refusal()
    if reason:
        return jsonify(error=reason), 401, {"WWW-Authenticate": 'Bearer realm="flamedeck"'}
    try:
        created = create_report(request.form, request.files)
    except BadInput as error:
        return jsonify(error=error.message), error.status_code, error.headers
    report = created.report
    document = _links(report) | {"status": report.status, "delete_token": created.delete_token} | _warning()
    return jsonify(document), 202, {"Location": _links(report)["api_url"]}


@bp.get("/environment")
def environment():
    """What scripts can import here: the Python version and every package of the script environment,
    and whether PEP 723 dependencies beyond it may be installed.
    ---
    get:
      summary: What scripts can import on this server
      responses:
        "200":
          description: The script environment.
          content:
            application/json:
              schema: Environment
    """
    return jsonify(describe_environment(current_app.config))


@bp.get("/reports/<token>")
def show(token: str):
    """A report's status and outcome; when done, its summary and artifact URLs.
    ---
    get:
      summary: Read a report
      parameters:
        - token
      responses:
        "200":
          description: The report's document.
          content:
            application/json:
              schema: Report
        "404": NotFound
        "410": Deleted
    """
    return jsonify(describe(load_report(token)))


@bp.post("/reports/<token>/cancel")
def cancel(token: str):
    """Cancel a queued job, or ask a running one to stop: 202 with the right X-Delete-Token header, else 403.
    ---
    post:
      summary: Cancel a queued or running job
      security: [{deleteToken: []}]
      parameters:
        - token
      responses:
        "202":
          description: Cancelled, or asked to stop; the report's document.
          content:
            application/json:
              schema: Report
        "403": WrongDeleteToken
        "404": NotFound
        "410": Deleted
    """
    report = load_report(token)
    reason = refusal(report, request.headers.get(DELETE_TOKEN_HEADER), CANCEL)
    if reason:
        return jsonify(error=reason), 403
    with get_store().writing() as session:
        request_cancel(session, report.id)
    return jsonify(describe(load_report(token))), 202


@bp.delete("/reports/<token>")
def remove(token: str):
    """Delete a report and its files: 204 with the right X-Delete-Token header, else 403.
    ---
    delete:
      summary: Delete a report and its files
      security: [{deleteToken: []}]
      parameters:
        - token
      responses:
        "204":
          description: Deleted.
        "403": WrongDeleteToken
        "404": NotFound
        "410": Deleted
    """
    report = load_report(token)
    reason = refusal(report, request.headers.get(DELETE_TOKEN_HEADER))
    if reason:
        return jsonify(error=reason), 403
    delete(report)
    return "", 204


@bp.get("/compare/<base>/<head>")
def compare(base: str, head: str):
    """Compare two finished reports function by function: what grew, what shrank, beyond noise.

    ``?format=markdown`` gives a table for a pull-request comment; ``?threshold=POINTS``
    counts only growths of a self share by more than that many points as regressions.
    ---
    get:
      summary: Compare two reports
      parameters:
        - in: path
          name: base
          required: true
          schema: {type: string}
          description: The id of the report to compare against (before).
        - in: path
          name: head
          required: true
          schema: {type: string}
          description: The id of the report being judged (after).
        - in: query
          name: format
          schema: {type: string, enum: [json, markdown]}
          description: json (default) or markdown.
        - in: query
          name: threshold
          schema: {type: number, minimum: 0}
          description: Points a self share must grow by, beyond noise, to count as a regression (default 0).
      responses:
        "200":
          description: The comparison.
          content:
            application/json:
              schema: Comparison
            text/markdown:
              schema: {type: string}
        "400":
          description: The threshold or format is not valid.
          content:
            application/json:
              schema: Error
        "404":
          description: No report has one of these ids.
          content:
            application/json:
              schema: Error
        "409":
          description: One of the reports has not finished, or has no profile to compare.
          content:
            application/json:
              schema: Error
    """
    output = request.args.get("format", "json")
    if output not in ("json", "markdown"):
        return jsonify(error=f"Unknown format “{output}”: ask for format=json or format=markdown."), 400
    try:
        threshold = float(request.args.get("threshold", "0"))
    except ValueError:
        threshold = -1.0
    if not 0 <= threshold < float("inf"):
        return jsonify(error="The threshold must be a number of percentage points, 0 or more (e.g. 2.5)."), 400
    document = comparisons.document(comparisons.load_pair(base, head), threshold)
    if output == "markdown":
        return format_markdown(document), 200, {"Content-Type": "text/markdown; charset=utf-8"}
    return jsonify(document)


def describe(report: Report) -> dict:
    """The API document of a report."""
    context = report_context(report)
    document = _links(report) | {
        "status": report.status,
        "kind": report.kind,
        "script_name": report.script_name,
        "options": report.options,
        "created_at": report.created_at,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "attempts": report.attempts,
        "queue_position": context["queue_position"] or None,
        "progress": context["progress"],
        "phase": report.phase,  # e.g. "installing numpy 2.3 …" before a script with PEP 723 dependencies runs
        "outcome": context["outcome"] or None,
    } | _warning()
    if not report.is_pending:
        document["summary"] = report.summary
        document["artifacts"] = {name: artifact_url(report.token, name, external=True)
                                 for name in context["artifact_names"]}
        # Whether the profile downloads exist and, when they do not, why (the run's outcome).
        missing = context["profile_files_missing"]
        document["profile_files"] = {"available": False, "reason": missing} if missing else {"available": True}
        if context["speedscope_url"]:
            document["speedscope_url"] = request.host_url.rstrip("/") + speedscope_url(report.token)
    baseline = comparisons.baseline_section(report)
    if baseline:
        document["baseline"] = baseline
    return document


def _warning() -> dict:
    """``{"warning": ...}`` when scripts run without isolation on this server, else nothing."""
    warning = sandbox_warning(current_app.config)
    return {"warning": warning} if warning else {}


def _links(report: Report) -> dict:
    return {
        "id": report.token,
        "url": url_for("reports.show", token=report.token, _external=True),
        "api_url": url_for("api.show", token=report.token, _external=True),
    }
