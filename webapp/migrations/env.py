"""Alembic's environment: runs the revisions on the connection flamedeck hands over.

``webapp.migrations.schema`` passes an open connection (inside the transaction that
holds the migration lock) in ``config.attributes["connection"]``. Run by hand
(``alembic -c ...``, e.g. to autogenerate a new revision), it connects to the
database the FLAMEDECK_* settings name.
"""

from alembic import context

from webapp.store.tables import Base


def _run(connection) -> None:
    context.configure(
        connection=connection, target_metadata=Base.metadata,
        # SQLite alters most things by copying the table; batch mode writes that for us.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_settings() -> None:
    from pathlib import Path

    from webapp.config import load_settings
    from webapp.store import Store, default_database_url

    settings = load_settings()
    url = settings["DATABASE_URL"] or default_database_url(Path(settings["DATA_DIR"]).resolve())
    store = Store(url)
    try:
        with store.engine.begin() as connection:
            _run(connection)
    finally:
        store.dispose()


if context.is_offline_mode():
    raise SystemExit("flamedeck's migrations run against a live database only (no --sql mode).")
given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    _run_from_settings()
