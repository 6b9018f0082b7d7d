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
    text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
    # Pygments escaped every character of the script (see source_listing): the HTML is ours.
    return [{"number": line.number, "html": Markup(line.html), "function": line.function}
            for line in source_lines(text, complexity)]


@lru_cache(maxsize=1)
def _stylesheet() -> str:
    return stylesheet()


@bp.get("/source.css")
def source_stylesheet():
    """Pygments' colours as a stylesheet: the strict CSP allows no style attributes."""
    return Response(_stylesheet(), mimetype="text/css",
                    headers={"Cache-Control": f"public, max-age={STYLESHEET_MAX_AGE_S}"})
