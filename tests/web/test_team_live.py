"""Team scale: one web process and several workers on "separate machines", crashes in both modes.

distributed: every process has its own working and data directory and shares only PostgreSQL
and Redis with the others. embedded: the same processes on one machine around SQLite.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from .backends import backend_settings, drop_connections
from .cluster import Cluster, kill_hard, logs, wait_until
from .live import FAST_LIFECYCLE, app_config, http_json, load, wait_for
from webapp import create_app
from webapp.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Artifact, Report

pytestmark = pytest.mark.slow

TINY_SCRIPT = "import time\ntime.sleep(0.3)\n"  # ~0.3 s of script, in idle mode: the 30-job run stays short
SECOND_SCRIPT = "import time\ntime.sleep(1)\nprint('slept')\n"  # submitted in idle mode: it only waits
SPIN_SCRIPT = (
    "import sys, time\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end:\n"
    "    sum(range(1000))\n"
)
FINAL = (DONE, FAILED, CANCELLED)
# A worker's death is noticed when its lease runs out and the reaper next looks; allow for
# process scheduling on a busy CI machine on top.
TAKEOVER_SLACK_S = 3.0
DROPPED_WITHIN_S = 5.0  # terminated PostgreSQL connections are closed well within this


@pytest.fixture
def distributed():
    with backend_settings("distributed") as settings:
        yield settings


@pytest.fixture
def cluster_for(tmp_path):
    """Makes the test's Cluster for a backend; kills whatever is still running at the end."""
    made = []

    def build(backend, **settings):
        made.append(Cluster(tmp_path, backend, **settings))
        return made[-1]

    yield build
    for cluster in made:
        cluster.close()


@pytest.fixture
def reader(tmp_path):
    """An app in this test process, only to read report rows (built lazily, once per backend)."""
    apps = []

    def build(cluster: Cluster):
        apps.append(create_app(app_config(cluster.data_dir("reader"), **cluster.settings)))
        return apps[-1].extensions["flamedeck.store"]

    yield build
    for app in apps:
        app.extensions["flamedeck.store"].dispose()


def submit(base_url: str, code: str, duration_s: int = 5, args: str = "", idle: bool = False) -> str:
    status, document = http_json("POST", base_url + "/api/v1/reports",
                                 {"code": code, "duration": str(duration_s), "rate": "100", "args": args,
                                  "idle": "on" if idle else ""})
    assert status == 202, document
    return document["id"]


def report_ids(store, tokens: list[str]) -> list[int]:
    with store.reading() as session:
        by_token = dict(session.execute(select(Report.token, Report.id).where(Report.token.in_(tokens))).all())
    return [by_token[token] for token in tokens]


def all_final(store, ids: list[int]) -> list[Report] | None:
    with store.reading() as session:
        rows = list(session.scalars(select(Report).where(Report.id.in_(ids))))
    return rows if all(row.status in FINAL for row in rows) else None


def identity(process) -> str:
    return f"{socket.gethostname()}:{process.pid}"


def test_thirty_jobs_on_three_worker_machines_run_exactly_once_each(distributed, cluster_for, reader):
    cluster = cluster_for(distributed)
    cluster.start_web()
    workers = [cluster.start_worker(f"worker{index}", workers=2) for index in range(3)]
    store = reader(cluster)
    with ThreadPoolExecutor(max_workers=30) as pool:
        tokens = list(pool.map(lambda _: submit(cluster.url, TINY_SCRIPT, idle=True), range(30)))
    ids = report_ids(store, tokens)
    rows = wait_until(lambda: all_final(store, ids), timeout_s=60, what="all 30 jobs finished")

    assert [row.status for row in rows] == [DONE] * 30, logs(cluster)
    assert {row.attempts for row in rows} == {1}  # each claimed once: no job ran twice
    ran_on = [row.worker for row in rows]
    assert set(ran_on) <= {identity(worker) for worker in workers}
    assert len(set(ran_on)) >= 2, f"all jobs ran on one worker: {ran_on}"
    assert all(row.summary["total_samples"] > 0 for row in rows)


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_a_worker_killed_mid_job_is_replaced_by_another_within_lease_and_reaper_period(mode, cluster_for, reader):
    with backend_settings(mode) as backend:
        cluster = cluster_for(backend)
        first, second = cluster.start_worker("worker1"), cluster.start_worker("worker2")
        store = reader(cluster)
        app = create_app(app_config(cluster.data_dir("reader"), **backend))
        response = app.test_client().post("/api/v1/reports", data={"code": SPIN_SCRIPT, "duration": "10",
                                                                   "rate": "100", "args": "2"})
        report_id = report_ids(store, [response.get_json()["id"]])[0]
        running = wait_until(lambda: (r := load(store, report_id)).status == RUNNING and r.progress_s >= 0.5 and r,
                             timeout_s=20, poll_s=0.05, what="the job sampling")
        victim, survivor = (first, second) if running.worker == identity(first) else (second, first)
        kill_hard(victim)
        killed_at = time.monotonic()

        again = wait_until(lambda: (r := load(store, report_id)).attempts == 2 and r.status != QUEUED and r,
                           timeout_s=20, poll_s=0.05, what="the job taken over")
        takeover_s = time.monotonic() - killed_at
        limit_s = FAST_LIFECYCLE["JOB_LEASE_S"] + FAST_LIFECYCLE["REAPER_INTERVAL_S"] + TAKEOVER_SLACK_S
        assert takeover_s <= limit_s, f"taken over after {takeover_s:.1f} s"
        assert again.worker == identity(survivor)
        report = wait_for(store, report_id, FINAL, timeout_s=30)
        app.extensions["flamedeck.store"].dispose()
        assert report.status == DONE, (report.outcome, logs(cluster))
        assert report.summary["total_samples"] > 0


RAW_BOUNDARY = "flamedeckboundary"


def multipart_script(size_bytes: int) -> bytes:
    """An API upload of a script about size_bytes long, as curl -F script=@big.py sends it."""
    source = ("x = 1  # padding\n" * (size_bytes // 17)).encode()
    return (f"--{RAW_BOUNDARY}\r\nContent-Disposition: form-data; name=\"duration\"\r\n\r\n2\r\n"
            f"--{RAW_BOUNDARY}\r\nContent-Disposition: form-data; name=\"script\"; filename=\"big.py\"\r\n"
            "Content-Type: text/x-python\r\n\r\n").encode() + source + f"\r\n--{RAW_BOUNDARY}--\r\n".encode()


def post_raw(port: int, body: bytes, *, send_bytes: int | None = None) -> socket.socket:
    """POST to the API over a raw socket, sending only the first send_bytes of the body."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (f"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: multipart/form-data; boundary={RAW_BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    connection.sendall(head + body[:send_bytes])
    return connection


def row_counts(store) -> tuple[int, int]:
    with store.reading() as session:
        return (session.scalar(select(func.count()).select_from(Report)),
                session.scalar(select(func.count()).select_from(Artifact)))


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_killing_the_web_process_during_an_upload_leaves_no_half_written_report(mode, cluster_for, reader):
    with backend_settings(mode) as backend:
        cluster = cluster_for(backend)
        web = cluster.start_web()
        store = reader(cluster)
        body = multipart_script(600_000)
        half = post_raw(cluster.port, body, send_bytes=len(body) // 2)
        time.sleep(0.5)  # the server is now reading the body
        kill_hard(web)
        half.close()
        assert row_counts(store) == (0, 0)

        cluster.start_web()  # a restart serves uploads again
        connection = post_raw(cluster.port, body)
        reply = connection.makefile("rb").readline()
        connection.close()
        assert b" 202 " in reply, reply
        assert row_counts(store)[0] == 1


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
def test_jobs_queued_when_everything_stops_complete_after_everything_starts_again(mode, cluster_for, reader):
    with backend_settings(mode) as backend:
        cluster = cluster_for(backend)
        cluster.start_web()
        cluster.start_worker("worker1")
        cluster.start_worker("worker2")
        store = reader(cluster)
        ids = report_ids(store, [submit(cluster.url, SECOND_SCRIPT, idle=True) for _ in range(6)])
        wait_until(lambda: any(load(store, i).status == RUNNING for i in ids), timeout_s=20, what="a job running")
        cluster.stop_all()
        states = [load(store, i).status for i in ids]
        assert RUNNING not in states and QUEUED in states, states  # running jobs were handed back

        cluster.start_web()
        cluster.start_worker("worker1")
        cluster.start_worker("worker2")
        rows = wait_until(lambda: all_final(store, ids), timeout_s=60, what="all jobs finished")
        assert [row.status for row in rows] == [DONE] * 6, logs(cluster)
        assert {row.attempts for row in rows} == {1}  # handing back on stop spends no attempt


def test_workers_reconnect_after_postgresql_drops_every_connection(distributed, cluster_for, reader):
    cluster = cluster_for(distributed)
    cluster.start_web()
    cluster.start_worker("worker1", workers=2)
    cluster.start_worker("worker2", workers=2)
    store = reader(cluster)
    ids = report_ids(store, [submit(cluster.url, SECOND_SCRIPT, idle=True) for _ in range(8)])
    wait_until(lambda: sum(load(store, i).status == RUNNING for i in ids) >= 2, timeout_s=20, what="jobs running")
    dropped = drop_connections(distributed["DATABASE_URL"], wait_gone_s=DROPPED_WITHIN_S)
    time.sleep(0.7)  # heartbeats, claims, reads and results now meet dead connections
    dropped += drop_connections(distributed["DATABASE_URL"], wait_gone_s=DROPPED_WITHIN_S)
    assert dropped >= 4  # web, both workers and this test all had connections open

    status, document = http_json("GET", f"{cluster.url}/api/v1/reports/{load(store, ids[0]).token}")
    assert status == 200, document  # the web process reconnected (its pool pre-pings)
    rows = wait_until(lambda: all_final(store, ids), timeout_s=60, what="all jobs finished")
    assert [row.status for row in rows] == [DONE] * 8, ([row.outcome for row in rows if row.status != DONE], logs(cluster))
    assert {row.attempts for row in rows} == {1}
