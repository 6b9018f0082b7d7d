"""The two ways flamedeck runs under test, each test on storage of its own.

embedded:    SQLite database and SQLite queue in the test's data directory (settings: none).
distributed: a fresh PostgreSQL database (created, migrated, dropped at the end) and a
             Redis queue with a unique name (its keys deleted at the end), so that
             parallel test runs and other users of the same servers never collide.
"""

from __future__ import annotations

import os
import secrets
import time
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import create_engine, make_url, text

BACKENDS = ("embedded", "distributed")
# The servers CI provides (.ci/setup --test starts them); override to point elsewhere.
POSTGRES_ADMIN_URL = os.environ.get("FLAMEDECK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FLAMEDECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CONNECT_TIMEOUT_S = 3
DATABASE_PREFIX = "flamedeck_test_"
DROP_POLL_S = 0.01  # how often drop_connections looks whether the terminated connections are gone


@lru_cache(maxsize=1)
def services_unreachable() -> str | None:
    """Why the distributed tests cannot run here, or None when PostgreSQL and Redis answer."""
    import redis

    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return (f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({type(error).__name__}); "
                "start it (.ci/setup --test does) or set FLAMEDECK_TEST_POSTGRES_URL.")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=CONNECT_TIMEOUT_S).ping()
    except Exception as error:
        return (f"Redis is not reachable at {REDIS_URL} ({type(error).__name__}); "
                "start it (.ci/setup --test does) or set FLAMEDECK_TEST_REDIS_URL.")
    return None


def _admin_engine():
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


@contextmanager
def fresh_postgres_database(migrate: bool = True):
    """A new, empty PostgreSQL database (migrated to the newest schema unless migrate=False); its URL."""
    name = DATABASE_PREFIX + secrets.token_hex(6)
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            from webapp.migrations import upgrade
            from webapp.store import Store

            store = Store(url)
            upgrade(store.engine)
            store.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            # FORCE: processes a test killed may still hold connections.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_queue():
    """A queue name nobody else uses on the test Redis; its keys are deleted at the end."""
    import redis
    from huey import RedisHuey

    name = DATABASE_PREFIX + secrets.token_hex(6)
    try:
        yield name
    finally:
        RedisHuey(name, url=REDIS_URL).storage.flush_all()
        # The rate limiter's counts carry the queue name in their keys (see webapp/views/rate_limits.py).
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"*{name}*"):
            client.delete(key)


@contextmanager
def backend_settings(mode: str):
    """The settings that make flamedeck run in ``mode``; skips the test when its services are down."""
    import pytest

    if mode == "embedded":
        yield {}
        return
    reason = services_unreachable()
    if reason:
        pytest.skip(reason)
    with fresh_postgres_database() as database_url, redis_queue() as queue_name:
        yield {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "QUEUE_NAME": queue_name}


def drop_connections(database_url: str, wait_gone_s: float = 0.0) -> int:
    """Terminate every server connection to this database (as a PostgreSQL restart would); how many.

    ``wait_gone_s``: wait up to this long until the server has closed them (terminating only
    signals a backend), so that the next statement on any of them surely meets a dead connection."""
    name = make_url(database_url).database
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            pids = [pid for pid, _signalled in connection.execute(text(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})]
            deadline = time.monotonic() + wait_gone_s
            # New connections opened meanwhile do not count: only the terminated ones must be gone.
            while wait_gone_s and pids and connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}):
                assert time.monotonic() < deadline, f"terminated connections still open after {wait_gone_s} s"
                time.sleep(DROP_POLL_S)
            return len(pids)
    finally:
        admin.dispose()
