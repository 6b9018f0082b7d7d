"""What a report template needs, computed from the row and its summary (no HTML here)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from flask import current_app, url_for

from webapp.analysis.static_metrics import runtime_of_functions
from webapp.store import CANCELLED, DONE, FAILED, QUEUED, Report
from webapp.store.artifacts import list_artifacts, load_artifact, plain_bytes
from webapp.store.lifecycle import queue_position
from webapp.views.services import get_store

OUTPUT_ARTIFACTS = ("stdout.txt", "stderr.txt")
PROJECT_ARTIFACT = "project.zip"  # a project's files, stored at submission (webapp.projects)
SPEEDSCOPE_ARTIFACT = "profile.speedscope.json"
FLAME_ARTIFACT = "flame.json"
# The profile files offered as buttons at the top of a report; the other downloads are listed
# below it (each file is offered once).
TOOLBAR_ARTIFACTS = ("profile.speedscope.json", "profile.collapsed.txt", "flamegraph.svg")
# Artifacts offered as downloads on the page; others (flame.json, for the flamegraph) are for scripts.
DOWNLOAD_LABELS = {
    "profile.speedscope.json": "Speedscope profile (.speedscope.json)",
    "profile.functions.speedscope.json": "Speedscope, one frame per function (.functions.speedscope.json)",
    "profile.collapsed.txt": "Collapsed stacks (.collapsed.txt)",
    "flamegraph.svg": "Flamegraph (.svg)",
    "report.json": "Summary (report.json)",
    "stdout.txt": "stdout",
    "stderr.txt": "stderr",
    "project.zip": "Project files (.zip)",
    "coverage.json": "Coverage, coverage.py JSON (.coverage.json)",
    "coverage.lcov": "Coverage, LCOV (.lcov)",
}
FLAG_LABELS = {"idle": "idle threads", "gil": "GIL only", "native": "native frames",
               "subprocesses": "subprocesses", "nonblocking": "non-blocking"}
# Flags that are on by default: the summary line names them when they were turned off.
OFF_FLAG_LABELS = {"coverage": "no coverage run"}
STATUS_LABELS = {QUEUED: "Queued", "running": "Running", DONE: "Done", FAILED: "Failed", CANCELLED: "Cancelled"}
# A finished job (status done or failed) is labelled by how the *script* ended: a profile
# of a script that crashed is a result, but not a success. Outcome status -> badge label.
SCRIPT_ENDINGS = {"raised": "Script raised an error", "no_samples": "No samples"}
NO_SAMPLES_REASON = "The run produced no samples, so there is no profile to download."


def report_context(report: Report) -> dict[str, Any]:
    """Everything the report templates show."""
    return header_context(report) | details_context(report)


def header_context(report: Report) -> dict[str, Any]:
    """What the header and the status box show: from the row alone (not its summary or artifacts)."""
    with get_store().reading() as session:
        position = queue_position(session, report)
    label, badge = status_badge(report.status, report.outcome or {})
    return {
        "report": report,
        "status_label": label,
        "status_badge": badge,
        "queue_position": position,
        "progress": _progress(report),
        "created": _format_time(report.created_at),
        "options_text": describe_options(report.options),
        "outcome": report.outcome or {},
        "share_url": url_for("reports.show", token=report.token, _external=True),
        "page_url": url_for("reports.show", token=report.token),
    }


def details_context(report: Report) -> dict[str, Any]:
    """What the finished report shows below its header: the summary's tables and the artifacts."""
    with get_store().reading() as session:
        artifacts = list_artifacts(session, report.id) if not report.is_pending else []
        output = {name: _text_artifact(session, report.id, name)
                  for name in OUTPUT_ARTIFACTS if any(a.name == name for a in artifacts)}
    summary = report.summary or {}
    artifacts = offered_artifacts(artifacts, summary)
    hot_functions = summary.get("hot_functions") or []
    names = {artifact.name for artifact in artifacts}
    rows = current_app.config["HOT_FUNCTION_ROWS"]
    downloads = [(DOWNLOAD_LABELS[a.name], a, artifact_url(report.token, a.name))
                 for a in artifacts if a.name in DOWNLOAD_LABELS]
    complexity = summary.get("function_complexity") or []
    return {
        "outcome": report.outcome or summary.get("outcome") or {},
        "summary": summary,
        "hot_functions": [dict(row, where=display_file(row.get("file", ""), report.script_name))
                          for row in hot_functions[:rows]],
        "hot_function_rows": rows,
        "hot_functions_hidden": max(len(hot_functions) - rows, 0),
        "static": summary.get("static_metrics"),
        "project_files": summary.get("project_files") or [],
        "project_file_names": {row.get("file") for row in summary.get("project_files") or []},
        "complexity": complexity,
        "complexity_runtime": _complexity_runtime(summary, complexity, report.script_name),
        "unsandboxed": summary.get("sandboxed") is False,
        "threads": summary.get("threads") or [],
        "output": output,
        "downloads": [item for item in downloads if item[1].name not in TOOLBAR_ARTIFACTS],
        "toolbar_downloads": [item for item in downloads if item[1].name in TOOLBAR_ARTIFACTS],
        "script_source": report.script_source or None,  # None for an imported profile
        "script_size_bytes": len((report.script_source or "").encode("utf-8", errors="replace")),
        "script_url": url_for("downloads.script", token=report.token) if report.script_source else None,
        "artifact_names": sorted(names),
        "profile_files_missing": _missing_profile_reason(report, summary, names),
        "speedscope_url": speedscope_url(report.token) if SPEEDSCOPE_ARTIFACT in names else None,
        "flame_url": artifact_url(report.token, FLAME_ARTIFACT) if FLAME_ARTIFACT in names else None,
    }


def status_badge(status: str, outcome: dict[str, Any]) -> tuple[str, str]:
    """(label, style) of a report's status badge; style is one of the row statuses.

    "Done" (green) only when the script ended well or ran into the time limit; a script
    that raised or exited non-zero gets the failure style and says what happened,
    whether or not samples were taken."""
    if status not in (DONE, FAILED):
        return STATUS_LABELS.get(status, status), status
    ending = outcome.get("status")
    if ending in SCRIPT_ENDINGS:
        return SCRIPT_ENDINGS[ending], FAILED
    if ending == "exited":
        code = outcome.get("exit_code")
        return (f"Exited with code {code}" if code is not None else "Ended unexpectedly"), FAILED
    return STATUS_LABELS[status], status


def offered_artifacts(artifacts: list, summary: dict[str, Any]) -> list:
    """The artifacts worth offering: none that is empty, and no profile file of a report
    without samples (older reports stored empty ones)."""
    has_samples = bool(summary.get("total_samples"))
    return [a for a in artifacts
            if a.size_bytes > 0 and (has_samples or a.name in (*OUTPUT_ARTIFACTS, PROJECT_ARTIFACT))]


def _missing_profile_reason(report: Report, summary: dict[str, Any], names: set[str]) -> str | None:
    """Why a finished report offers no profile files; None when it does (or is not finished)."""
    if report.is_pending or SPEEDSCOPE_ARTIFACT in names:
        return None
    outcome = report.outcome or summary.get("outcome") or {}
    return outcome.get("message") or NO_SAMPLES_REASON


def artifact_url(token: str, name: str, *, external: bool = False) -> str:
    """Where an artifact of a report is downloaded."""
    return url_for("downloads.artifact", token=token, name=name, _external=external)


def speedscope_url(token: str) -> str:
    """The bundled speedscope viewer, loading this report's profile from this same site."""
    profile = artifact_url(token, SPEEDSCOPE_ARTIFACT)
    return url_for("speedscope.asset", path="index.html") + "#profileURL=" + quote(profile, safe="")


# Where a file's own path starts inside an installation: after site-packages/ (a package's
# files) or after lib/pythonX.Y/ (the standard library's modules).
_INSTALLED_PREFIX = re.compile(
    r"^.*[/\\](?:site|dist)-packages[/\\]|^.*[/\\]lib(?:64)?[/\\]python\d+(?:\.\d+)?t?[/\\]", re.I)


def display_file(path: str, script_name: str) -> str:
    """How a frame's file is shown, the same way everywhere on the page (and in report.js):
    the script by its own name, installed code by its module path ("json/decoder.py",
    "requests/api.py"), any other file by its last two path parts."""
    path = (path or "").replace("\\", "/")
    parts = path.split("/")
    if parts[-1] == script_name:
        return script_name  # its real path is the job's scratch directory: noise to a reader
    installed = _INSTALLED_PREFIX.sub("", path)
    if installed != path:
        return installed
    return "/".join(parts[-2:]) if len(parts) > 2 else path


def _complexity_runtime(summary: dict[str, Any], complexity: list, script_name: str) -> dict[int, dict]:
    """Row index of the complexity table -> the sampled function (name, file) it is, so the
    row can lead to that function in the flamegraph."""
    static_functions = (summary.get("static_metrics") or {}).get("function_complexity") or complexity
    if len(static_functions) != len(complexity):
        return {}
    return runtime_of_functions(static_functions, summary.get("hot_functions") or [], script_name)


def describe_options(options: dict[str, Any] | None) -> str:
    """A short human summary of the run options, e.g. '10 s at 100 Hz, GIL only'."""
    if not options:
        return ""
    parts = [f"{options.get('duration_s')} s at {options.get('rate_hz')} Hz"]
    parts += [label for flag, label in FLAG_LABELS.items() if options.get(flag)]
    parts += [label for flag, label in OFF_FLAG_LABELS.items() if options.get(flag) is False]
    if options.get("args"):
        parts.append("args: " + " ".join(options["args"]))
    return ", ".join(parts)


def _progress(report: Report) -> dict[str, float]:
    limit_s = float((report.options or {}).get("duration_s") or 0)
    elapsed_s = min(report.progress_s or 0.0, limit_s) if limit_s else report.progress_s or 0.0
    progress = {"elapsed_s": round(elapsed_s, 1), "limit_s": limit_s}
    if report.upload_bytes is not None:  # an import run by a worker: how much of the file it has read
        progress |= {"bytes_read": report.progress_bytes or 0, "bytes_total": report.upload_bytes}
    return progress


def _format_time(epoch_s: float | None) -> str:
    if epoch_s is None:
        return ""
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _text_artifact(session, report_id: int, name: str) -> str:
    artifact = load_artifact(session, report_id, name)
    return plain_bytes(artifact).decode("utf-8", errors="replace") if artifact else ""
