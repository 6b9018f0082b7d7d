"""The job lifecycle with a real consumer process and real py-spy: pickup, kill -9, retries, cancel."""

from __future__ import annotations

import os
import signal
import time

import pytest

from .live import app_config, consumer, load, processes_mentioning, wait_for
from webapp import create_app
from webapp.store import CANCELLED, DONE, FAILED, RUNNING, Report
from webapp.store.lifecycle import WORKER_DIED_MESSAGE

pytestmark = pytest.mark.slow

PICKUP_LIMIT_S = 0.2  # the promise: an idle worker starts a new job within 0.2 s
CONSUMER_IDLE_S = 3.0  # long enough for Huey's default backoff to have grown past that
SLEEPY_SCRIPT = "import time\ntime.sleep(1)\nprint('slept')\n"  # submitted in idle mode: it only waits
LONG_SCRIPT = (
    "import time\n"
    "def spin(seconds):\n"
    "    end = time.monotonic() + seconds\n"
    "    while time.monotonic() < end:\n"
    "        sum(range(1000))\n"
    "spin(float(__import__('sys').argv[1]))\n"
)


@pytest.fixture
def live_app(tmp_path, backend):
    """Builds apps on the test's data directory, in each mode in turn."""
    def build(**settings):
        app = create_app(app_config(tmp_path, **backend, **settings))
        apps.append(app)
        return app

    apps = []
    yield build
    for app in apps:
        app.extensions["flamedeck.store"].dispose()


delete_tokens: dict[str, str] = {}  # report token -> delete token, of the reports submit() made


def submit(app, code: str, duration_s: int, args: str = "", idle: bool = False) -> int:
    response = app.test_client().post("/api/v1/reports", data={"code": code, "duration": str(duration_s),
                                                               "rate": "100", "args": args,
                                                               "idle": "on" if idle else ""})
    assert response.status_code == 202, response.get_json()
    delete_tokens[response.get_json()["id"]] = response.get_json()["delete_token"]
    with app.extensions["flamedeck.store"].reading() as session:
        return session.query(Report.id).filter_by(token=response.get_json()["id"]).scalar()


def wait_until_sampling(store, report_id: int, timeout_s: float = 20) -> None:
    """Wait until the job runs and py-spy has been recording for a moment."""
    deadline = time.monotonic() + timeout_s
    while not (load(store, report_id).status == RUNNING and load(store, report_id).progress_s >= 0.5):
        assert time.monotonic() < deadline, f"report {report_id} never started sampling: {load(store, report_id).status}"
        time.sleep(0.05)


def wait_until_gone(text: str, timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while processes_mentioning(text):
        assert time.monotonic() < deadline, f"processes still running for {text}: {processes_mentioning(text)}"
        time.sleep(0.1)


def job_dir_prefix(app, report_id: int) -> str:
    """What the command lines of a job's processes (py-spy, the sandbox, the script) contain."""
    from webapp.jobs.reaper import jobs_dir

    return f"{jobs_dir(app.config)}/{report_id}-"


def test_an_idle_worker_starts_a_new_job_within_0_2_s(live_app, tmp_path, backend):
    app = live_app()
    store = app.extensions["flamedeck.store"]
    with consumer(tmp_path, workers=1, **backend):
        time.sleep(CONSUMER_IDLE_S)
        report_id = submit(app, SLEEPY_SCRIPT, duration_s=5, idle=True)
        report = wait_for(store, report_id, (RUNNING, DONE, FAILED), timeout_s=10, poll_s=0.01)
        assert report.started_at - report.enqueued_at < PICKUP_LIMIT_S
        report = wait_for(store, report_id, (DONE, FAILED), timeout_s=20)
    assert report.status == DONE, report.outcome


def test_a_job_whose_worker_is_killed_runs_again_and_completes(live_app, tmp_path, backend):
    app = live_app()
    store = app.extensions["flamedeck.store"]
    with consumer(tmp_path, workers=1, **backend) as first:
        report_id = submit(app, LONG_SCRIPT, duration_s=6, args="1.5")
        wait_until_sampling(store, report_id)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    # py-spy and the script die with their worker; the row still says running until the reaper looks.
    wait_until_gone(job_dir_prefix(app, report_id))
    assert load(store, report_id).status == RUNNING
    with consumer(tmp_path, workers=1, **backend):
        report = wait_for(store, report_id, (DONE, FAILED, CANCELLED), timeout_s=40)
    assert report.status == DONE, report.outcome
    assert report.attempts == 2
    assert report.summary["total_samples"] > 0


def test_a_job_whose_worker_keeps_dying_fails_with_the_worker_died_message(live_app, tmp_path, backend):
    app = live_app(MAX_ATTEMPTS=1)
    store = app.extensions["flamedeck.store"]
    with consumer(tmp_path, workers=1, MAX_ATTEMPTS=1, **backend) as first:
        report_id = submit(app, LONG_SCRIPT, duration_s=6, args="3")
        wait_until_sampling(store, report_id)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    with consumer(tmp_path, workers=1, MAX_ATTEMPTS=1, **backend):
        report = wait_for(store, report_id, (DONE, FAILED, CANCELLED), timeout_s=30)
    assert report.status == FAILED
    assert report.outcome["message"] == WORKER_DIED_MESSAGE.format(attempts=1)
    token = report.token
    page = app.test_client().get(f"/r/{token}").get_data(as_text=True)
    assert "The worker running this job stopped 1 times" in page and "hx-trigger" not in page


def test_cancel_stops_a_running_job(live_app, tmp_path, backend):
    app = live_app()
    store = app.extensions["flamedeck.store"]
    with consumer(tmp_path, workers=1, **backend):
        report_id = submit(app, LONG_SCRIPT, duration_s=30, args="30")
        wait_until_sampling(store, report_id)
        report = load(store, report_id)
        started = time.monotonic()
        response = app.test_client().post(f"/api/v1/reports/{report.token}/cancel",
                                          headers={"X-Delete-Token": delete_tokens[report.token]})
        assert response.status_code == 202
        report = wait_for(store, report_id, (DONE, FAILED, CANCELLED), timeout_s=15)
        stopped_after_s = time.monotonic() - started
    assert report.status == CANCELLED, report.outcome
    assert stopped_after_s < 10
    wait_until_gone(job_dir_prefix(app, report_id))
