"""One error type, rendered as a page, an htmx fragment, or JSON for the API."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

API_PREFIX = "/api/"


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors, oversized requests and CSRF failures."""
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(HTTPException, _http_error)


def wants_json() -> bool:
    """API requests get JSON errors; everything else gets HTML."""
    return request.path.startswith(API_PREFIX)


def error_response(message: str, status_code: int, headers: dict[str, str] | None = None):
    """The error as JSON for the API or as the error page."""
    if wants_json():
        response = jsonify(error=message)
    else:
        from webapp.views.rendering import page_or_partial

        response = page_or_partial("error.html", "_error.html", message=message, status_code=status_code)
    return response, status_code, headers or {}


def _too_large(error: RequestEntityTooLarge):
    from flask import current_app

    from webapp.views.pages import render_index_with_error

    limit = current_app.config["MAX_UPLOAD_BYTES"]
    message = (f"The upload is larger than the {limit:,}-byte limit. "
               "Choose a smaller file (or ask the operator to raise FLAMEDECK_MAX_UPLOAD_BYTES).")
    if wants_json() or request.path != "/reports":
        return error_response(message, 413)
    return render_index_with_error(message, 413)


def _csrf_failed(error: CSRFError):
    return error_response(
        "The form has expired or did not come from this site. Reload the page and submit it again.", 400
    )


def _http_error(error: HTTPException):
    return error_response(error.description or error.name, error.code or 500)
