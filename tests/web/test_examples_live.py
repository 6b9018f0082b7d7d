"""Every example, submitted through the form and through the API, profiled by a real worker with real py-spy."""

from __future__ import annotations

import pytest

from .backends import BACKENDS, backend_settings
from .conftest import csrf_token
from .live import app_config, consumer, wait_for
from webapp import create_app
from webapp.store import DONE, FAILED, CANCELLED, Report

pytestmark = pytest.mark.slow

RUN_FIELDS = {"duration": "5", "rate": "100", "args": "--runtime 1"}
# example -> (extra options it is meant to be profiled with, functions one of which must be hot)
EXAMPLES = {
    "server_simulation": ({}, {"fibonacci", "is_prime", "find_primes", "process_data"}),
    "multi_threaded": ({}, {"hash_blocks", "sort_lists", "count_primes", "multiply_matrices"}),
    "multiprocessing_pool": ({"subprocesses": "1"}, {"collatz_lengths", "monte_carlo_pi", "sum_of_divisors"}),
    "io_bound": ({"idle": "1"}, {"wait_for_database", "fetch_over_socket", "parse_response"}),
    "deep_recursion": ({}, {"walk_tree", "ackermann", "is_even", "is_odd"}),
}
CASES = [(name, way) for name in EXAMPLES for way in ("form", "api")]


@pytest.fixture(scope="module", params=BACKENDS)
def live(request, tmp_path_factory):
    """An app and a real consumer in each mode; all examples submitted up front."""
    with backend_settings(request.param) as backend:
        yield from _submit_all(tmp_path_factory.mktemp("examples"), backend)


def _submit_all(data_dir, backend):
    app = create_app(app_config(data_dir, MAX_QUEUED=20, **backend))
    client = app.test_client()
    token = csrf_token(client)
    with consumer(data_dir, workers=3, **backend):
        submitted = {}
        for name, way in CASES:
            fields = {"example": name, **RUN_FIELDS, **EXAMPLES[name][0]}
            if way == "form":
                response = client.post("/reports", data={"csrf_token": token, "source": "example", **fields})
                assert response.status_code == 303, response.get_data(as_text=True)
                report_token = response.headers["Location"].rsplit("/", 1)[-1]
            else:
                response = client.post("/api/v1/reports", data=fields)
                assert response.status_code == 202, response.get_json()
                report_token = response.get_json()["id"]
            submitted[name, way] = report_token
        yield app, client, submitted
    app.extensions["flamedeck.store"].dispose()


@pytest.mark.parametrize(("name", "way"), CASES)
def test_example_reaches_done_with_its_hot_functions(live, name, way):
    app, client, submitted = live
    store = app.extensions["flamedeck.store"]
    with store.reading() as session:
        report_id = session.query(Report.id).filter_by(token=submitted[name, way]).scalar()
    report = wait_for(store, report_id, (DONE, FAILED, CANCELLED), timeout_s=90)
    assert report.status == DONE, report.outcome
    hot = {function["name"] for function in report.summary["hot_functions"]}
    assert hot & EXAMPLES[name][1], f"none of {EXAMPLES[name][1]} among the hot functions {sorted(hot)}"

    page = client.get(f"/r/{submitted[name, way]}").get_data(as_text=True)
    assert 'id="hot-functions"' in page and 'id="static-metrics"' in page
    document = client.get(f"/api/v1/reports/{submitted[name, way]}").get_json()
    assert document["status"] == "done" and document["summary"]["total_samples"] > 0
    download = client.get(f"/r/{submitted[name, way]}/profile.speedscope.json")
    assert download.status_code == 200 and download.get_json()["profiles"]
