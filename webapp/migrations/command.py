"""``flamedeck db upgrade`` and ``flamedeck db current``: the report database's schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError


def main(argv: list[str]) -> int:
    """Entry point of ``flamedeck db ...``; 0 on success."""
    from webapp.config import ConfigError, load_settings

    parser = argparse.ArgumentParser(prog="flamedeck db", description="Manage the report database's schema.")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("upgrade", help="bring the database to this version's schema (safe to run again)")
    actions.add_parser("current", help="print the database's schema revision and the one this version needs")
    revision = actions.add_parser("revision", help="(for developers) write a new migration: the difference "
                                                   "between the tables in the code and an up-to-date database")
    revision.add_argument("-m", "--message", required=True, help="what the migration changes")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail(str(error))
    from webapp.migrations.schema import SchemaNotCurrent
    from webapp.store import Store

    store = Store(_database_url(settings), sqlite_busy_timeout_s=settings["SQLITE_BUSY_TIMEOUT_S"])
    where = store.engine.url.render_as_string(hide_password=True)
    try:
        if args.action == "revision":
            return _revision(store, args.message)
        return _upgrade(store, where) if args.action == "upgrade" else _current(store, where)
    except SchemaNotCurrent as error:
        return _fail(str(error))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return _fail(f"cannot use the database at {where}: {reason}. "
                     "Check FLAMEDECK_DATABASE_URL and that the database server is running.")
    finally:
        store.dispose()


def _database_url(settings: dict) -> str:
    if settings["DATABASE_URL"]:
        return settings["DATABASE_URL"]
    from webapp.store import default_database_url

    data_dir = Path(settings["DATA_DIR"]).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # as create_app leaves it: private to the server's user
    return default_database_url(data_dir)


def _upgrade(store, where: str) -> int:
    from webapp.migrations.schema import upgrade

    before, after = upgrade(store.engine)
    if before == after:
        print(f"flamedeck: the database at {where} is already at revision {after}; nothing to do.")
    else:
        print(f"flamedeck: upgraded the database at {where} from revision {before or '(empty)'} to {after}.")
    return 0


def _current(store, where: str) -> int:
    from webapp.migrations.schema import database_revision, head_revision

    revision, head = database_revision(store.engine), head_revision()
    state = "up to date" if revision == head else "run `flamedeck db upgrade`"
    print(f"{where}: revision {revision or '(empty)'}; this flamedeck needs {head} ({state}).")
    return 0 if revision == head else 1


def _revision(store, message: str) -> int:
    from alembic import command

    from webapp.migrations.schema import check_current, migration_config

    check_current(store.engine)  # the difference is only meaningful against the newest revision
    with store.engine.begin() as connection:
        script = command.revision(migration_config(connection), message=message, autogenerate=True)
    print(f"flamedeck: wrote {script.path}; read it, adjust it, and add a test that upgrades an old database.")
    return 0


def _fail(message: str) -> int:
    print(f"flamedeck: {message}", file=sys.stderr)
    return 2
