"""Fixtures for the web tests: a fresh app on a temporary data directory, and helpers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.store import DONE, SCRIPT, Report
from webapp.store.lifecycle import insert_finished

from .backends import BACKENDS, backend_settings

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Settings of each mode in turn: embedded ({}), then distributed (own PostgreSQL database, Redis queue)."""
    with backend_settings(request.param) as settings:
        yield settings


@pytest.fixture
def app(data_dir: Path):
    """The app on its own SQLite database and SQLite queue; nothing consumes the queue."""
    yield from make_app(data_dir)


def make_app(data_dir: Path, **settings):
    """An app for tests (a generator for fixtures: disposes of its pool at the end)."""
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SERVER_NAME": "flamedeck.test"} | settings)
    yield app
    app.extensions["flamedeck.store"].dispose()


@pytest.fixture
def store(app):
    return app.extensions["flamedeck.store"]


def csrf_token(client) -> str:
    """The CSRF token of the client's session, as the form on the home page carries it."""
    page = client.get("/").get_data(as_text=True)
    return CSRF_INPUT.search(page).group(1)


def own_csrf_token(client) -> str:
    """The CSRF token of this client's own session, when another client made requests before.

    pytest-flask keeps one app context pushed for the whole test, so every request shares
    its ``g``, where Flask-WTF caches the token of whichever session asked first."""
    from flask import g

    g.pop("csrf_token", None)
    return csrf_token(client)


def post_form(client, data: dict, **kwargs):
    """Submit the home page's form the way a browser does: with the session's CSRF token."""
    return client.post("/reports", data={"csrf_token": csrf_token(client), **data},
                       content_type="multipart/form-data", **kwargs)


def row(store, token: str) -> Report | None:
    with store.reading() as session:
        return session.scalar(select(Report).where(Report.token == token))


def report_count(store) -> int:
    with store.reading() as session:
        return session.query(Report).count()


def sample_summary(script_name: str = "busy.py") -> dict:
    """A report.json as the pipeline writes it, small enough to check by eye."""
    return {
        "script_name": script_name,
        "total_samples": 200,
        "unique_functions": 3,
        "duration_s": 2.0,
        "hot_functions": [
            {"name": "spin", "file": "/jobs/1/busy.py", "line": 3, "self_samples": 150, "total_samples": 150,
             "self_percent": 75.0, "total_percent": 75.0},
            {"name": "main", "file": "/jobs/1/busy.py", "line": 9, "self_samples": 50, "total_samples": 200,
             "self_percent": 25.0, "total_percent": 100.0},
        ],
        "static_metrics": {
            "file_size_bytes": 321, "lines_of_code": 14, "sloc": 10, "comments": 1, "blank": 3,
            "functions": 2, "classes": 0, "imports": 1, "complexity_score": 2.5, "maintainability_index": 88.1,
            "function_complexity": [{"name": "spin", "line": 3, "end_line": 7, "complexity": 3, "rank": "A"}],
            "error": None,
        },
        "function_complexity": [
            {"name": "spin", "line": 3, "end_line": 7, "complexity": 3, "rank": "A",
             "self_percent": 75.0, "total_percent": 75.0},
        ],
        "outcome": {"status": "finished", "exit_code": 0, "message": "The script finished normally."},
        "options": {"duration_s": 2, "rate_hz": 100},
        "threads": [{"name": "MainThread", "process": "", "samples": 200}],
    }


SPEEDSCOPE_BYTES = b'{"$schema": "https://www.speedscope.app/file-format-schema.json", "profiles": []}'


def insert_done_report(store, script_name: str = "busy.py", summary: dict | None = None) -> Report:
    """A finished report in the database, as a worker would have stored it."""
    with store.writing() as session:
        return insert_finished(
            session, kind=SCRIPT, status=DONE, script_name=script_name,
            options={"duration_s": 2, "rate_hz": 100, "idle": False, "gil": True, "native": False,
                     "subprocesses": False, "nonblocking": False, "args": ["--runtime", "1"]},
            outcome={"status": "finished", "exit_code": 0, "message": "The script finished normally."},
            summary=summary or sample_summary(script_name),
            artifacts={"profile.speedscope.json": SPEEDSCOPE_BYTES,
                       "profile.collapsed.txt": b"main;spin 150\nmain 50\n",
                       "stdout.txt": b"hello <b>world</b>\n", "stderr.txt": b""},
        )


def body_region(html: str) -> bool:
    """True when ``html`` is the report region alone (with its title for htmx), not a whole page."""
    stripped = re.sub(r"^\s*<title>[^<]*</title>\s*", "", html)
    return stripped.startswith('<div id="report"') and "<html" not in html
