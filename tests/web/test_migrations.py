"""Schema migrations: old databases keep their reports, shared databases are upgraded on purpose, once."""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from .backends import BACKENDS, fresh_postgres_database, services_unreachable
from .conftest import SPEEDSCOPE_BYTES, make_app
from .live import PROJECT_ROOT, environment
from webapp import create_app
from webapp.migrations import SchemaNotCurrent, database_revision, head_revision, upgrade
from webapp.store import Store, default_database_url
from webapp.store.tables import Base

UPGRADERS = 4
LEGACY_SCHEMA = Path(__file__).parent / "fixtures" / "schema_0_1.sqlite.sql"
LEGACY_TOKEN = "legacy-report-token-0123456789abcdef"
LEGACY_REPORT = {
    "token": LEGACY_TOKEN, "kind": "script", "status": "done", "script_name": "old.py", "script_source": "x = 1\n",
    "options": '{"duration_s": 2, "rate_hz": 100}', "created_at": 1_700_000_000.0, "enqueued_at": 1_700_000_000.0,
    "started_at": 1_700_000_001.0, "finished_at": 1_700_000_003.0, "progress_s": 2.0, "attempts": 1,
    "lease_token": None, "lease_expires_at": None, "cancel_requested": False,
    "outcome": '{"status": "finished", "exit_code": 0, "message": "The script finished normally."}',
    "summary": '{"script_name": "old.py", "total_samples": 0}',
}
LEGACY_ARTIFACT = {"name": "profile.speedscope.json", "size_bytes": len(SPEEDSCOPE_BYTES),
                   "sha256": hashlib.sha256(SPEEDSCOPE_BYTES).hexdigest(),
                   "gzip_data": gzip.compress(SPEEDSCOPE_BYTES, mtime=0)}


def flamedeck_db(*args: str, data_dir: Path, **settings) -> subprocess.CompletedProcess:
    """Run `flamedeck db ...` as an operator would, with these settings."""
    return subprocess.run([sys.executable, "-m", "webapp.cli", "db", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env=environment(data_dir, fast=False, **settings), timeout=60)


def insert_legacy_report(execute) -> None:
    columns = ", ".join(LEGACY_REPORT)
    execute(f"INSERT INTO reports (id, {columns}) VALUES (1, {', '.join(':' + c for c in LEGACY_REPORT)})",
            LEGACY_REPORT)
    execute("INSERT INTO artifacts (report_id, name, size_bytes, sha256, gzip_data) "
            "VALUES (1, :name, :size_bytes, :sha256, :gzip_data)", LEGACY_ARTIFACT)


def assert_legacy_report_intact(app) -> None:
    client = app.test_client()
    page = client.get(f"/r/{LEGACY_TOKEN}")
    assert page.status_code == 200 and "old.py" in page.get_data(as_text=True)
    assert client.get(f"/r/{LEGACY_TOKEN}/profile.speedscope.json").data == SPEEDSCOPE_BYTES
    assert client.get(f"/api/v1/reports/{LEGACY_TOKEN}").get_json()["status"] == "done"
    # It predates delete tokens: nobody can delete it with one, and the answer says why.
    refused = client.delete(f"/api/v1/reports/{LEGACY_TOKEN}", headers={"X-Delete-Token": "guess"})
    assert refused.status_code == 403 and "before delete tokens existed" in refused.get_json()["error"]


@pytest.mark.parametrize("upgraded_by", ["flamedeck db upgrade", "app start"])
def test_a_sqlite_database_from_before_migrations_is_upgraded_and_keeps_its_report(tmp_path, upgraded_by):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with sqlite3.connect(data_dir / "flamedeck.db") as connection:
        connection.executescript(LEGACY_SCHEMA.read_text())
        insert_legacy_report(connection.execute)
    if upgraded_by == "flamedeck db upgrade":
        result = flamedeck_db("upgrade", data_dir=data_dir)
        assert result.returncode == 0, result.stderr
        assert f"from revision 0001 to {head_revision()}" in result.stdout
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir)})  # upgrades SQLite itself if needed
    try:
        assert database_revision(app.extensions["flamedeck.store"].engine) == head_revision()
        assert_legacy_report_intact(app)
    finally:
        app.extensions["flamedeck.store"].dispose()


@pytest.fixture
def postgres():
    reason = services_unreachable()
    if reason:
        pytest.skip(reason)
    with fresh_postgres_database(migrate=False) as url:
        yield url


def test_a_postgresql_database_from_before_migrations_is_refused_then_upgraded_keeping_its_report(postgres, tmp_path):
    store = Store(postgres)
    upgrade(store.engine, "0001")  # the 0.1 tables ...
    with store.engine.begin() as connection:
        insert_legacy_report(lambda sql, values: connection.execute(text(sql), values))
        connection.execute(text("DROP TABLE alembic_version"))  # ... as 0.1 made them, unversioned
    store.dispose()

    with pytest.raises(SchemaNotCurrent, match=r"revision 0001, but this version of flamedeck needs .* "
                                               r"Run `flamedeck db upgrade` once"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "web"), "DATABASE_URL": postgres})
    result = flamedeck_db("upgrade", data_dir=tmp_path / "ops", DATABASE_URL=postgres)
    assert result.returncode == 0, result.stderr
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "web"), "DATABASE_URL": postgres})
    try:
        assert_legacy_report_intact(app)
    finally:
        app.extensions["flamedeck.store"].dispose()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_migrations_build_exactly_the_tables_the_code_declares(data_dir, backend):
    for app in make_app(data_dir, **backend):
        with app.extensions["flamedeck.store"].engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == [], "a model changed without a migration: add a revision in webapp/migrations"


def test_web_and_worker_refuse_a_shared_database_without_tables_and_say_what_to_do(postgres, tmp_path):
    with pytest.raises(SchemaNotCurrent, match=r"has no flamedeck tables yet\. Run `flamedeck db upgrade` once"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "web"), "DATABASE_URL": postgres})
    worker = subprocess.run([sys.executable, "-m", "webapp.worker"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            env=environment(tmp_path / "worker", DATABASE_URL=postgres), timeout=60)
    assert worker.returncode == 2 and "Run `flamedeck db upgrade` once" in worker.stderr
    assert "Traceback" not in worker.stderr


def test_a_database_upgraded_by_a_newer_flamedeck_is_refused(data_dir):
    for app in make_app(data_dir):
        with app.extensions["flamedeck.store"].engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaNotCurrent, match="a newer flamedeck upgraded it"):
        create_app({"TESTING": True, "DATA_DIR": str(data_dir)})
    result = flamedeck_db("upgrade", data_dir=data_dir)
    assert result.returncode == 2 and "a newer flamedeck upgraded it" in result.stderr


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_upgrades_started_at_the_same_moment_migrate_once(mode, tmp_path):
    """As when several processes start together on an empty database: one migrates, the others wait and find it done."""
    if mode == "distributed" and services_unreachable():
        pytest.skip(services_unreachable())
    with (fresh_postgres_database(migrate=False) if mode == "distributed" else nullcontext()) as url:
        url = url or default_database_url(tmp_path)
        stores = [Store(url) for _ in range(UPGRADERS)]
        start = threading.Barrier(UPGRADERS)

        def upgrade_at_once(store):
            start.wait()
            return upgrade(store.engine)

        with ThreadPoolExecutor(UPGRADERS) as pool:
            results = list(pool.map(upgrade_at_once, stores))
        head = head_revision()
        assert results.count((None, head)) == 1 and results.count((head, head)) == UPGRADERS - 1, results
        assert database_revision(stores[0].engine) == head
        for store in stores:
            store.dispose()
