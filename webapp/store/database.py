"""The database engine: SQLite (WAL) by default, any SQLAlchemy URL otherwise.

The schema is not created here: ``webapp.migrations`` owns it (Alembic).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_FILE = "flamedeck.db"
WRITE_OPTION = "flamedeck_write"  # connection execution option: this transaction will write
WAL_SWITCH_RETRY_S = 0.01  # pause between attempts to switch a new SQLite file to WAL
# What a database server going away looks like (restart, failover, a killed backend, a refused connect).
LOST_CONNECTION_ERRORS = (OperationalError, InterfaceError, DisconnectionError)

T = TypeVar("T")
log = logging.getLogger(__name__)


def default_database_url(data_dir: Path) -> str:
    """The embedded SQLite database in the data directory."""
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


class Store:
    """The engine and session factory of the report database."""

    def __init__(self, url: str, *, sqlite_busy_timeout_s: float = 10.0, pool_size: int = 5,
                 retry_delay_s: float = 1.0, retry_window_s: float = 30.0):
        self.url = url
        self.engine = _make_engine(url, sqlite_busy_timeout_s, pool_size)
        self.retry_delay_s = retry_delay_s
        self.retry_window_s = retry_window_s
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; rolled back at the end."""
        with self._sessions() as session:
            yield session

    def first_row(self, statement, params: dict | None = None):
        """The first row of a Core ``statement`` (or None), without an ORM session: the cheap
        path for lookups made on every request."""
        with self.engine.connect() as connection:
            return connection.execute(statement, params or {}).first()

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

    def run_write(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a write transaction; again, on a fresh connection, while the
        database connection keeps being lost (see ``_retrying``).

        For work that is safe to repeat (flamedeck's conditional updates): a transaction
        cut off with its connection was rolled back as a whole, so a repeat never finds half
        of it stored; in the rare case that its commit landed before the connection dropped,
        the repeat finds the row already changed and does nothing (``claim`` recognises its
        own lease token and says the job is taken).
        """
        return self._retrying(work, self.writing)

    def run_read(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a read-only session, retried like ``run_write``; for workers,
        whose jobs must not fail because a database restart cut a read off."""
        return self._retrying(work, self.reading)

    def _retrying(self, work: Callable[[Session], T], session_scope) -> T:
        # A lost connection (a restart, a failover, a killed backend) fails the statement that
        # was using it; the pool has already been told to drop its connections, so the next try
        # opens a fresh one. Try every retry_delay_s until retry_window_s has passed since the
        # first failure: a database that is back at once costs one pause, a restart a few.
        # SQLite is never retried: its OperationalError means "locked", and the busy timeout
        # has already waited for that.
        give_up_at = None
        while True:
            try:
                with session_scope() as session:
                    return work(session)
            except LOST_CONNECTION_ERRORS as error:
                if self.engine.dialect.name == "sqlite":
                    raise
                now = time.monotonic()
                give_up_at = give_up_at if give_up_at is not None else now + self.retry_window_s
                if now + self.retry_delay_s > give_up_at:
                    raise
                log.warning("lost the database connection (%s); retrying in %s s",
                            str(error).splitlines()[0], self.retry_delay_s)
            time.sleep(self.retry_delay_s)

    def dispose(self) -> None:
        """Close pooled connections (after a fork, or at shutdown)."""
        self.engine.dispose()


def _make_engine(url: str, sqlite_busy_timeout_s: float, pool_size: int) -> Engine:
    if not url.startswith("sqlite"):
        # Pre-ping: a connection the server dropped (restart, idle timeout) is noticed
        # when taken from the pool and replaced, instead of failing the next statement.
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)
    engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _switch_to_wal(cursor, sqlite_busy_timeout_s)  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        write = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _switch_to_wal(cursor, timeout_s: float) -> None:
    # Switching a new database file to WAL takes exclusive access for a moment, and SQLite
    # answers "locked" at once, without waiting its busy timeout, when another process is
    # switching it too (several processes starting together on a fresh data directory).
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(WAL_SWITCH_RETRY_S)
