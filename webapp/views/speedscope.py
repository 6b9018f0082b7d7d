"""The bundled speedscope viewer (npm package, copied to static/vendor/speedscope by .ci/setup).

speedscope injects its styles at run time and compiles WebAssembly for one importer,
so its pages get their own policy: inline styles and 'wasm-unsafe-eval', but still
no inline scripts, no eval, and no connections to other sites.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, send_from_directory, url_for

bp = Blueprint("speedscope", __name__, url_prefix="/speedscope")

VENDOR_SUBDIR = Path("vendor") / "speedscope"
SPEEDSCOPE_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
])
MISSING_MESSAGE = "The bundled speedscope viewer is not installed. Run .ci/setup to install it."


@bp.get("/")
def index():
    """The viewer's own address is /speedscope/index.html."""
    return redirect(url_for("speedscope.asset", path="index.html"))


@bp.get("/<path:path>")
def asset(path: str):
    """Serve a file of the speedscope release with speedscope's own CSP."""
    directory = Path(current_app.static_folder) / VENDOR_SUBDIR
    if not (directory / "index.html").is_file():
        abort(404, MISSING_MESSAGE)
    response = send_from_directory(directory, path)
    response.headers["Content-Security-Policy"] = SPEEDSCOPE_CSP
    return response
