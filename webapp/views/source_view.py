"""The report's source view: the uploaded script, highlighted, one table row per line.

The rows are rendered once with the rest of a finished report (reports/_source.html);
the heat of each line is painted in the browser from the flamegraph's data
(static/js/flamegraph/source-heat.js), so it follows the selected thread.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response
from markupsafe import Markup

from webapp.analysis.source_listing import source_lines, stylesheet

bp = Blueprint("source", __name__)

STYLESHEET_MAX_AGE_S = 86_400  # the colours change only with a new Pygments style, i.e. a new release


@bp.app_template_global()
def source_listing(report, complexity: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The rows of ``report``'s source view: number, highlighted HTML, the function defined there.
    Empty for an imported profile (no script) or a report without source."""
    source = getattr(report, "script_source", None)
    if not source or getattr(report, "kind", "run") == "import":
        return []
    return _rows(_text(source), complexity)


@bp.app_template_global()
def source_files(report, complexity: list[dict[str, Any]] | None = None,
                 coverage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each file of the source view: ``name``, ``anchor`` (the prefix of its rows' ids: none for
    the script or a project's entry, so ``#L12`` keeps meaning the script's line 12), ``rows``
    (each marked ``missed`` when the coverage run never executed it) and ``coverage`` (its entry
    of ``summary.coverage.files``, or None). A project shows every .py file, the entry first."""
    rows = source_listing(report, complexity)
    if not rows:
        return []
    entry = {"name": report.script_name, "anchor": "", "rows": rows}
    files = [entry]
    project = _project_sources(report)
    if project:
        entry["rows"] = _rows(project.pop(report.script_name, ""), _of_file(complexity, report.script_name)) or rows
        files += [{"name": name, "anchor": f"f{index}-", "rows": _rows(text, _of_file(complexity, name))}
                  for index, (name, text) in enumerate(sorted(project.items()), start=1)]
    covered = (coverage or {}).get("files") or {}
    for file in files:
        file["coverage"] = covered.get(file["name"])
        missed = set(file["coverage"]["missing_lines"]) if file["coverage"] else set()
        for row in file["rows"]:
            row["missed"] = row["number"] in missed
    return files


def _rows(text: str, complexity: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    # Pygments escaped every character of the script (see source_listing): the HTML is ours.
    return [{"number": line.number, "html": Markup(line.html), "function": line.function}
            for line in source_lines(text, complexity)]


def _text(source: str | bytes) -> str:
    return source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source


def _of_file(complexity: list[dict[str, Any]] | None, name: str) -> list[dict[str, Any]]:
    """A project's complexity rows of one file (the rows of a single script name no file)."""
    return [row for row in complexity or [] if row.get("file", name) == name]


def _project_sources(report) -> dict[str, str]:
    """A project's .py files by path (from its stored project.zip); empty for a single script."""
    from webapp.projects import PROJECT_ARTIFACT
    from webapp.projects.project import from_stored_zip
    from webapp.store.artifacts import load_artifact, plain_bytes
    from webapp.views.services import get_store

    if not getattr(report, "id", None):
        return {}
    with get_store().reading() as session:
        stored = load_artifact(session, report.id, PROJECT_ARTIFACT)
        data = plain_bytes(stored) if stored is not None else None
    if data is None:
        return {}
    project = from_stored_zip(data, report.script_name)
    return {name: _text(project.files[name]) for name in project.python_files}


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return stylesheet()


@bp.get("/source.css")
def source_stylesheet():
    """Pygments' colours as a stylesheet: the strict CSP allows no style attributes."""
    return Response(_stylesheet(), mimetype="text/css",
                    headers={"Cache-Control": f"public, max-age={STYLESHEET_MAX_AGE_S}"})
