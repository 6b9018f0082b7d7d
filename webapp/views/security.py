"""Security headers on every response.

The Content-Security-Policy allows scripts and styles from this origin only:
no inline scripts, no eval (htmx is configured without its eval features).
The bundled speedscope viewer gets its own, looser policy (see speedscope.py).
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])


def init_app(app: Flask) -> None:
    """Add the security headers to every response (a view may set its own CSP first)."""
    app.after_request(add_security_headers)
    # The session cookie only carries the CSRF token; it never needs to travel cross-site.
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"


def add_security_headers(response: Response) -> Response:
    """Set CSP, nosniff, frame and referrer policies unless the view chose its own."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
