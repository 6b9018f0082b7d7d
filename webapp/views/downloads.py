"""Artifact downloads: immutable once written, so strong ETags, long caching, gzip as stored."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request

from webapp.store.artifacts import load_artifact, plain_bytes
from webapp.views.finished_cache import find_report, get_cache
from webapp.views.missing_reports import abort_missing
from webapp.views.reports import load_report
from webapp.views.services import get_store

bp = Blueprint("downloads", __name__, url_prefix="/r")

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"  # a year: the file never changes
CONTENT_TYPES = {
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".zip": "application/zip",
    ".lcov": "text/plain; charset=utf-8",
}
# Artifact name -> suffix of the downloaded file (after the script's stem); others open in the browser.
ATTACHMENT_SUFFIXES = {
    "profile.speedscope.json": ".speedscope.json",
    "profile.functions.speedscope.json": ".functions.speedscope.json",
    "profile.collapsed.txt": ".collapsed.txt",
    "flamegraph.svg": ".svg",
    "report.json": ".report.json",
    "project.zip": ".project.zip",
    "coverage.json": ".coverage.json",
    "coverage.lcov": ".lcov",
}
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
NOT_FOUND_MESSAGE = "This report has no file called '{name}'."


@bp.get("/<token>/script")
def script(token: str):
    """The uploaded script as it was submitted (a download; the report shows it too)."""
    report = load_report(token)
    if not report.script_source:
        abort(404, "This report has no script: it was made from an imported profile.")
    filename = download_stem(report.script_name) + ".py"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }
    return Response(report.script_source, content_type="text/plain; charset=utf-8", headers=headers)


@bp.get("/<token>/<name>")
def artifact(token: str, name: str):
    """Send one artifact, compressed when the client accepts gzip."""
    report = find_report(token)
    if report is None:
        abort_missing(token)
    stored = _artifact(token, report.id, name)
    if stored is None:
        abort(404, NOT_FOUND_MESSAGE.format(name=name))
    gzip_ok = request.accept_encodings["gzip"] > 0
    etag = stored.sha256 + ("-gzip" if gzip_ok else "")
    headers = {
        "Cache-Control": IMMUTABLE_CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        # An SVG opened directly must not run scripts on this origin.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
    if name in ATTACHMENT_SUFFIXES:
        filename = download_stem(report.script_name) + ATTACHMENT_SUFFIXES[name]
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    content_type = CONTENT_TYPES.get(_suffix(name), "application/octet-stream")
    if request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
    elif gzip_ok:
        response = Response(stored.gzip_data, content_type=content_type, headers=headers)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(plain_bytes(stored), content_type=content_type, headers=headers)
    response.set_etag(etag)
    return response


def _artifact(token: str, report_id: int, name: str):
    """The stored artifact (only ever written once, with its finished report), cached per process."""
    key = ("artifact", token, report_id, name)
    stored = get_cache().get(key)
    if stored is None:
        with get_store().reading() as session:
            stored = load_artifact(session, report_id, name)
        if stored is not None:
            get_cache().put(key, stored, len(stored.gzip_data))
    return stored


def download_stem(script_name: str) -> str:
    """The script's name without its extension, safe for a Content-Disposition header."""
    stem = script_name
    for suffix in (".json", ".speedscope", ".py", ".txt"):
        stem = stem.removesuffix(suffix)
    return UNSAFE_NAME_CHARACTERS.sub("_", stem).strip("._") or "profile"


def _suffix(name: str) -> str:
    return name[name.rfind("."):] if "." in name else ""
