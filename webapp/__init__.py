"""flamedeck: profile Python scripts with py-spy and share the reports.

``create_app()`` builds the web application; nothing reads configuration at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the FLAMEDECK_* settings, overridden by ``test_config``."""
    from flask_wtf.csrf import CSRFProtect

    from webapp import config, views
    from webapp.jobs import JobQueue, make_huey
    from webapp.migrations import prepare_schema
    from webapp.store import Store, default_database_url

    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(config.load_settings())
    if test_config:
        app.config.update(test_config)

    data_dir = Path(app.config["DATA_DIR"]).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Private: the database, queue and key. Jobs run elsewhere (JOBS_DIR).
    data_dir.chmod(0o700)
    app.config["DATA_DIR"] = str(data_dir)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or config.ensure_secret_key(data_dir)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"]
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or default_database_url(data_dir)
    if app.config["EXAMPLES_DIR"] == config.BY_NAME["EXAMPLES_DIR"].default:
        # The default means the examples shipped with flamedeck, wherever it is started from.
        app.config["EXAMPLES_DIR"] = str(PROJECT_ROOT / "examples")
    # The API is used with curl and has no cookies; only the HTML forms need a CSRF token.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)

    store = Store(app.config["DATABASE_URL"], sqlite_busy_timeout_s=app.config["SQLITE_BUSY_TIMEOUT_S"],
                  pool_size=app.config["DATABASE_POOL_SIZE"], retry_delay_s=app.config["DATABASE_RETRY_DELAY_S"],
                  retry_window_s=app.config["DATABASE_RETRY_WINDOW_S"])
    # SQLite is upgraded in place; a shared database must already be current (`flamedeck db upgrade`),
    # otherwise this raises SchemaNotCurrent with that advice.
    try:
        prepare_schema(store.engine)
    except BaseException:
        store.dispose()
        raise
    settings = {key: app.config[key] for key in config.BY_NAME}
    app.extensions["flamedeck.store"] = store
    app.extensions["flamedeck.queue"] = JobQueue(make_huey(settings), store, settings)

    _owner_only(data_dir)

    from webapp.views.spooling import SpoolingRequest

    # Big uploads stream to a file in UPLOAD_DIR, which an import job then reads (never held in memory).
    app.request_class = SpoolingRequest
    csrf = CSRFProtect(app)
    views.register(app, csrf)
    return app


def _owner_only(data_dir: Path) -> None:
    """Database, queue and key files readable by the server's user only, never by the
    sandbox user that runs scripts, even if DATA_DIR is made reachable."""
    for path in data_dir.iterdir():
        if path.is_file():
            path.chmod(0o600)
