"""A worker whose PostgreSQL connections are all dropped at the worst moment still finishes its job.

Each test runs one real job (real py-spy, real PostgreSQL) in this process and, at one chosen
step of the job's way through the database, terminates every server connection to the database
(``pg_terminate_backend``, as a database restart or failover would) just before the step's
statement is sent. The job must come out done, once, with all its files, as if nothing happened.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from .backends import backend_settings, drop_connections
from .conftest import make_app
from webapp.store import DONE, SCRIPT, Artifact, Report
from webapp.store.lifecycle import insert_queued

pytestmark = pytest.mark.slow

BUSY_SCRIPT = (
    "import time\n"
    "end = time.process_time() + 0.3\n"  # CPU time, so that py-spy always finds it running
    "while time.process_time() < end:\n"
    "    sum(range(1000))\n"
)
RETRY_DELAY_S = 0.05  # the worker's pause before it tries again; short, the database is back at once
DROPPED_WITHIN_S = 5.0  # terminated backends are gone from pg_stat_activity well within this

# Where the job meets the database, by the statement that is about to run when the connections drop.
MOMENTS = {
    "claiming the job": r"^UPDATE reports SET status=.*attempts=",
    "reading the job's project": r"^SELECT .*\sFROM artifacts",
    "storing the result": r"^UPDATE reports SET status=.*finished_at=",
    "storing the files, after the result": r"^INSERT INTO artifacts",
}


@pytest.fixture
def distributed():
    with backend_settings("distributed") as settings:
        yield settings


@pytest.fixture
def app(data_dir, distributed):
    yield from make_app(data_dir, DATABASE_RETRY_DELAY_S=RETRY_DELAY_S, **distributed)


def queue_job(store) -> int:
    with store.writing() as session:
        return insert_queued(session, kind=SCRIPT, script_name="busy.py", script_source=BUSY_SCRIPT,
                             options={"duration_s": 5, "rate_hz": 100}).id


def drop_connections_before(store, pattern: str, times: int = 1) -> list[str]:
    """Drop every connection before each of the first ``times`` statements matching ``pattern``;
    the list says how often it fired."""
    fired = []
    matcher = re.compile(pattern, re.DOTALL)

    @event.listens_for(store.engine, "before_cursor_execute")
    def _drop(_connection, _cursor, statement, _parameters, _context, _executemany):
        if len(fired) < times and matcher.search(statement):
            fired.append(statement)
            drop_connections(store.url, wait_gone_s=DROPPED_WITHIN_S)

    return fired


def assert_done_once_with_every_file(store, report_id: int) -> None:
    with store.reading() as session:
        row = session.get(Report, report_id)
        names = list(session.scalars(select(Artifact.name).where(Artifact.report_id == report_id)))
        distinct = session.scalar(select(func.count(func.distinct(Artifact.name)))
                                  .where(Artifact.report_id == report_id))
    assert (row.status, row.attempts, row.lease_token) == (DONE, 1, None), row.outcome
    assert row.outcome["status"] == "finished", row.outcome
    assert any(name.endswith(".speedscope.json") for name in names), names
    assert len(names) == distinct  # nothing stored twice


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_job_survives_every_connection_dropping_while(app, moment):
    store = app.extensions["flamedeck.store"]
    report_id = queue_job(store)
    fired = drop_connections_before(store, MOMENTS[moment])
    app.extensions["flamedeck.queue"].runner.run(report_id)
    assert fired, f"the job never got to {moment}"
    assert_done_once_with_every_file(store, report_id)


def test_a_job_survives_the_connections_dropping_again_as_it_tries_again(app):
    """A restart that takes a while: the first retry meets dead connections too."""
    store = app.extensions["flamedeck.store"]
    report_id = queue_job(store)
    fired = drop_connections_before(store, MOMENTS["storing the result"], times=3)
    app.extensions["flamedeck.queue"].runner.run(report_id)
    assert len(fired) == 3
    assert_done_once_with_every_file(store, report_id)


def test_a_job_survives_every_connection_dropping_as_its_result_commits(app):
    """The commit itself meets a dead connection: the whole result was rolled back and is stored again."""
    store = app.extensions["flamedeck.store"]
    report_id = queue_job(store)
    fired = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _note(_connection, _cursor, statement, *_):
        if re.search(MOMENTS["storing the result"], statement, re.DOTALL):
            fired.append("result")

    @event.listens_for(store.engine, "commit")
    def _drop(_connection):
        if fired == ["result"]:
            fired.append("commit")
            drop_connections(store.url, wait_gone_s=DROPPED_WITHIN_S)

    app.extensions["flamedeck.queue"].runner.run(report_id)
    assert fired[:2] == ["result", "commit"], fired
    assert_done_once_with_every_file(store, report_id)
