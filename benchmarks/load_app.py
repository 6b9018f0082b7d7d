"""The app as ``benchmarks/load.py`` serves it: flamedeck plus one extra static directory.

The extra route serves files the way Flask serves ``/static/`` (``send_from_directory``
with conditional responses), from a temporary directory, so the benchmark can compare
a report's artifact with a plain file of the same size from the same gunicorn.
"""

from __future__ import annotations

import os

STATIC_DIR_VARIABLE = "LOAD_BENCH_STATIC_DIR"
STATIC_MAX_AGE_S = 3600


def create_app_with_static():
    """``webapp.create_app()`` with ``/bench-static/<file>`` served from $LOAD_BENCH_STATIC_DIR."""
    from flask import send_from_directory

    from webapp import create_app

    app = create_app()
    directory = os.environ[STATIC_DIR_VARIABLE]

    def bench_static(filename: str):
        return send_from_directory(directory, filename, max_age=STATIC_MAX_AGE_S)

    app.add_url_rule("/bench-static/<path:filename>", "bench_static", bench_static)
    return app
