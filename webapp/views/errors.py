"""The app's error handlers: HTTP errors, oversized requests and CSRF failures."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webapp.views.error_responses import error_response, wants_json
from webapp.views.pages import render_index_with_error
from webapp.units import human_size

def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors, oversized requests and CSRF failures."""
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(HTTPException, _http_error)


def _too_large(error: RequestEntityTooLarge):
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    message = (f"The upload is larger than the {human_size(limit)} limit. "
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
