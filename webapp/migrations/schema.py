"""Bringing the database to the schema this version of flamedeck needs, safely from many processes.

Who upgrades: ``flamedeck db upgrade`` always; ``create_app`` (so every web and
worker process, and ``flamedeck serve``) only on SQLite, where every process is on
one machine. A shared PostgreSQL database is upgraded deliberately, once, after a
backup; web and worker processes only check it and refuse to start on a mismatch.

Several processes may start at once. The whole upgrade runs in one transaction
that first takes a lock: ``BEGIN IMMEDIATE`` on SQLite (the database's write
lock), a transaction-scoped advisory lock on PostgreSQL. The revision is read
after the lock is taken, so the second process finds the work done.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from webapp.store.database import WRITE_OPTION

MIGRATIONS_DIR = Path(__file__).resolve().parent
# Databases made by flamedeck 0.1 (tables, no alembic_version) have exactly this revision's schema.
LEGACY_REVISION = "0001"
# Any constant shared by every flamedeck process; it names the lock, not a table.
POSTGRES_MIGRATION_LOCK_KEY = 0x666C616D6564  # "flamed"

UPGRADE_ADVICE = "Run `flamedeck db upgrade` once (after a backup), then start the web and worker processes again."


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this code needs; the message says what to do."""


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(migration_config(None))


def migration_config(connection: Connection | None) -> Config:
    """Alembic's configuration for our scripts, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this version of flamedeck needs."""
    return _scripts().get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The database's revision: LEGACY_REVISION for tables made before migrations, None when empty."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and inspect(connection).has_table("reports"):
        return LEGACY_REVISION
    return revision


def database_revision(engine: Engine) -> str | None:
    """``current_revision`` on a connection of its own."""
    with engine.connect() as connection:
        return current_revision(connection)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to the newest revision (or ``revision``), under the migration lock;
    returns (revision before, revision after)."""
    with engine.connect() as connection:
        # On SQLite this makes the transaction start with BEGIN IMMEDIATE: the lock.
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({POSTGRES_MIGRATION_LOCK_KEY})")
            before = current_revision(connection)
            if before is not None and not _known(before):  # never "upgrade" past what this code knows
                raise SchemaNotCurrent(_problem(engine, before))
            config = migration_config(connection)
            if before == LEGACY_REVISION and not inspect(connection).has_table("alembic_version"):
                command.stamp(config, LEGACY_REVISION)  # adopt the pre-migration tables as they are
            command.upgrade(config, revision)
    return before, head_revision() if revision == "head" else revision


def check_current(engine: Engine) -> None:
    """Raise SchemaNotCurrent, with what to do, unless the database is at the newest revision."""
    problem = _problem(engine, database_revision(engine))
    if problem:
        raise SchemaNotCurrent(problem)


def _problem(engine: Engine, revision: str | None) -> str | None:
    head = head_revision()
    if revision == head:
        return None
    where = engine.url.render_as_string(hide_password=True)
    if revision is None:
        return f"The database at {where} has no flamedeck tables yet. {UPGRADE_ADVICE}"
    if not _known(revision):
        return (f"The database at {where} has schema revision {revision}, which this version of flamedeck "
                f"does not know (it needs {head}): a newer flamedeck upgraded it. "
                "Install the same flamedeck version on every machine.")
    return (f"The database at {where} has schema revision {revision}, but this version of flamedeck "
            f"needs {head}. {UPGRADE_ADVICE}")


def _known(revision: str) -> bool:
    from alembic.util.exc import CommandError

    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:  # alembic's answer for a revision it has no file for
        return False


def prepare_schema(engine: Engine) -> None:
    """At app start: upgrade a SQLite database in place; require any other database to be current."""
    revision = database_revision(engine)
    if engine.dialect.name == "sqlite" and (revision is None or _known(revision)):
        if revision != head_revision():
            upgrade(engine)
        return
    problem = _problem(engine, revision)
    if problem:
        raise SchemaNotCurrent(problem)
