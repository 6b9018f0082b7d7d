"""One error, rendered as a page, an htmx fragment, or JSON for the API."""

from __future__ import annotations

from flask import jsonify, request

from webapp.views.rendering import page_or_partial

API_PREFIX = "/api/"


def wants_json() -> bool:
    """API requests get JSON errors; everything else gets HTML."""
    return request.path.startswith(API_PREFIX)


def error_response(message: str, status_code: int, headers: dict[str, str] | None = None):
    """The error as JSON for the API or as the error page."""
    if wants_json():
        response = jsonify(error=message)
    else:
        response = page_or_partial("error.html", "_error.html", message=message, status_code=status_code)
    return response, status_code, headers or {}
