"""The database engine: SQLite (WAL) by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from webapp.store.tables import Base

SQLITE_FILE = "flamedeck.db"
WRITE_OPTION = "flamedeck_write"  # connection execution option: this transaction will write


def default_database_url(data_dir: Path) -> str:
    """The embedded SQLite database in the data directory."""
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


class Store:
    """The engine and session factory of the report database."""

    def __init__(self, url: str, *, sqlite_busy_timeout_s: float = 10.0):
        self.url = url
        self.engine = _make_engine(url, sqlite_busy_timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        """Create the tables that do not exist yet."""
        try:
            Base.metadata.create_all(self.engine)
        except DBAPIError:
            # Another process (a web worker, a queue worker) created them at the same
            # moment; the second pass sees its tables and creates nothing.
            Base.metadata.create_all(self.engine)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; rolled back at the end."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction commits on success.

        On SQLite it starts with ``BEGIN IMMEDIATE`` so that a read followed by a
        write never fails with "database is locked" when another process wrote in
        between: the write lock is taken (waiting up to the busy timeout) up front.
        """
        with self._sessions() as session, session.begin():
            session.connection(execution_options={WRITE_OPTION: True})
            yield session

    def dispose(self) -> None:
        """Close pooled connections (after a fork, or at shutdown)."""
        self.engine.dispose()


def _make_engine(url: str, sqlite_busy_timeout_s: float) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        write = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
