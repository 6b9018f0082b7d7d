"""`flamedeck serve`: gunicorn and the consumer as children, clean stops, queued jobs survive a restart."""

from __future__ import annotations

import signal
import time
import urllib.request

import pytest

from .live import alive, app_config, child_pids, free_port, http_json, serve, stop
from webapp import create_app

pytestmark = pytest.mark.slow

SLEEPY_SCRIPT = "import time\ntime.sleep(1.5)\nprint('done')\n"  # submitted in idle mode: it only waits


def wait_for_api(api_url: str, statuses: tuple[str, ...], timeout_s: float = 40) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        status, document = http_json("GET", api_url)
        assert status == 200, document
        if document["status"] in statuses:
            return document
        assert time.monotonic() < deadline, f"still {document['status']} after {timeout_s} s"
        time.sleep(0.1)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_profiles_a_script_and_stops_both_children_cleanly(tmp_path, stop_signal, backend):
    port = free_port()
    with serve(tmp_path, port, **backend) as (process, base_url):
        with urllib.request.urlopen(base_url + "/", timeout=10) as response:
            assert response.status == 200 and b"Profile a Python script" in response.read()
        status, created = http_json("POST", base_url + "/api/v1/reports",
                                    {"code": SLEEPY_SCRIPT, "duration": "5", "rate": "100", "idle": "on"})
        assert status == 202, created
        assert created["url"] == f"{base_url}/r/{created['id']}"
        document = wait_for_api(created["api_url"], ("done", "failed"))
        assert document["status"] == "done", document["outcome"]
        children = child_pids(process.pid)
        assert len(children) >= 3  # gunicorn master, its workers, the consumer
        started = time.monotonic()
        assert stop(process, stop_signal) == 0
        assert time.monotonic() - started < 10
        assert alive(children) == []


def test_jobs_queued_when_serve_stops_complete_after_a_restart(tmp_path, backend):
    port = free_port()
    with serve(tmp_path, port, workers=1, **backend) as (process, base_url):
        created = []
        for _ in range(3):
            status, document = http_json("POST", base_url + "/api/v1/reports",
                                         {"code": SLEEPY_SCRIPT, "duration": "5", "rate": "100", "idle": "on"})
            assert status == 202, document
            created.append(document)
        wait_for_api(created[0]["api_url"], ("running",))
        assert stop(process, signal.SIGINT) == 0
    app = create_app(app_config(tmp_path, **backend))
    store = app.extensions["flamedeck.store"]
    try:
        with app.test_client() as client:
            states = [client.get(f"/api/v1/reports/{doc['id']}").get_json()["status"] for doc in created]
        assert "running" not in states and "queued" in states  # the running job was handed back
        with serve(tmp_path, port, workers=1, **backend) as (_process, base_url):
            for document in created:
                final = wait_for_api(document["api_url"], ("done", "failed", "cancelled"))
                assert final["status"] == "done", final["outcome"]
                assert final["attempts"] == 1  # handing back on stop does not spend an attempt
    finally:
        store.dispose()
