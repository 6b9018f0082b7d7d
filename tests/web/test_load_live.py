"""No job lost to a race under load: short CPU-bound jobs submitted all at once, three rounds in a
row, to one `flamedeck serve` (embedded: SQLite) and to a team (PostgreSQL + Redis, one `serve` and
three `flamedeck worker` processes). Every job must end done, with samples, on its first attempt.

The script burns JOB_CPU_S of CPU time (not wall time), so on a busy machine it runs longer
but never does less work: what it must get is samples, however the machine is shared.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from .backends import backend_settings
from .cluster import Cluster, logs, wait_until
from .live import app_config, http_json
from webapp import create_app
from webapp.store import CANCELLED, DONE, FAILED, Report
from webapp.store.artifacts import load_artifact, plain_bytes

pytestmark = pytest.mark.slow

JOBS = 24
ROUNDS = 3
TEAM_WORKER_PROCESSES = 3
JOB_CPU_S = 0.3
CPU_BOUND_SCRIPT = (
    "import time\n"
    f"end = time.process_time() + {JOB_CPU_S}\n"
    "while time.process_time() < end:\n"
    "    sum(range(1000))\n"
)
ROUND_TIMEOUT_S = 180  # 24 jobs on 2 cores take about 20-40 s; this is only a hang guard
FINAL = (DONE, FAILED, CANCELLED)


@pytest.fixture
def team(request, tmp_path):
    """A running cluster of the mode named by the test's parameter, and a store to read its rows."""
    with backend_settings(request.param) as backend:
        # The lifecycle timings an operator gets, not the tests' short ones: under this load a
        # 3 s lease can run out while a heartbeat waits for the CPU, which is not what is tested.
        cluster = Cluster(tmp_path, backend, fast=False)
        try:
            cluster.start_serve()  # first: it creates (embedded) or checks the database
            if request.param == "distributed":
                for index in range(TEAM_WORKER_PROCESSES):
                    cluster.start_worker(f"worker{index}", workers=2)
            reader = create_app(app_config(cluster.data_dir("reader"), **backend))
            yield cluster, reader.extensions["flamedeck.store"]
            reader.extensions["flamedeck.store"].dispose()
            cluster.stop_all()
        finally:
            cluster.close()


def submit_all_at_once(base_url: str, count: int) -> list[str]:
    def submit(_):
        status, document = http_json("POST", base_url + "/api/v1/reports",
                                     {"code": CPU_BOUND_SCRIPT, "duration": "10", "rate": "100"})
        assert status == 202, document
        return document["id"]

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(submit, range(count)))


def finished_rows(store, tokens: list[str]) -> list[Report] | None:
    with store.reading() as session:
        rows = list(session.scalars(select(Report).where(Report.token.in_(tokens))))
    return rows if len(rows) == len(tokens) and all(row.status in FINAL for row in rows) else None


def failures(store, rows: list[Report]) -> list[str]:
    """One line per job that did not end done with samples on its first attempt, with the end of its stderr."""
    wrong = []
    for row in rows:
        samples = (row.summary or {}).get("total_samples", 0)
        if row.status != DONE or not samples or row.attempts != 1:
            with store.reading() as session:
                stderr = load_artifact(session, row.id, "stderr.txt")
                stderr_tail = plain_bytes(stderr).decode(errors="replace")[-400:] if stderr else ""
            wrong.append(f"{row.token}: {row.status}, {samples} samples, attempt {row.attempts}: "
                         f"{(row.outcome or {}).get('message')} stderr: {stderr_tail!r}")
    return wrong


@pytest.mark.parametrize("team", ["embedded", "distributed"], indirect=True)
def test_every_short_cpu_bound_job_submitted_at_once_ends_done_with_samples_three_rounds_in_a_row(team):
    cluster, store = team
    for round_number in range(1, ROUNDS + 1):
        started = time.monotonic()
        tokens = submit_all_at_once(cluster.url, JOBS)
        rows = wait_until(lambda: finished_rows(store, tokens), timeout_s=ROUND_TIMEOUT_S, poll_s=0.5,
                          what=f"all {JOBS} jobs of round {round_number} finished")
        wrong = failures(store, rows)
        assert not wrong, (f"round {round_number}: {len(wrong)} of {JOBS} jobs lost\n" + "\n".join(wrong)
                           + "\n" + logs(cluster))
        print(f"round {round_number}: {JOBS} jobs done with samples in {time.monotonic() - started:.1f} s, "
              f"samples per job {sorted(row.summary['total_samples'] for row in rows)}")
