"""One route, two renderings: the full page, or only its partial for htmx."""

from __future__ import annotations

from flask import render_template, request


def is_htmx() -> bool:
    """True when htmx made the request (it then wants only the partial)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def page_or_partial(page: str, partial: str, **context) -> str:
    """Render the partial for htmx, the page (which includes the partial) otherwise."""
    return render_template(partial if is_htmx() else page, **context)
