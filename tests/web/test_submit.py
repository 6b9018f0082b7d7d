"""Submitting through the form and the API: good input is queued, bad input is refused and stored nowhere."""

from __future__ import annotations

import io
import re

import pytest

from .conftest import body_region, csrf_token, make_app, post_form, report_count, row
from webapp.store import QUEUED, Report

GOOD_SCRIPT = b"def spin():\n    return sum(range(10))\n\nspin()\n"


def upload(data: bytes, name: str = "busy.py"):
    return (io.BytesIO(data), name)


def fresh(fields: dict) -> dict:
    """The fields with new file objects (a parametrized case runs more than once)."""
    return {key: upload(value[0].getvalue(), value[1]) if isinstance(value, tuple) else value
            for key, value in fields.items()}


def latest_report(store) -> Report:
    with store.reading() as session:
        return session.query(Report).order_by(Report.id.desc()).first()


def test_uploading_a_script_queues_it_and_redirects_to_its_page(client, store):
    response = post_form(client, {"source": "script", "script": upload(GOOD_SCRIPT), "duration": "3",
                                  "rate": "50", "args": "--runtime '1 2'", "gil": "1"})
    assert response.status_code == 303
    report = latest_report(store)
    assert response.headers["Location"].endswith(f"/r/{report.token}")
    assert (report.status, report.script_name, report.script_source) == (QUEUED, "busy.py", GOOD_SCRIPT.decode())
    assert report.options | {} == {"duration_s": 3, "rate_hz": 50, "idle": False, "gil": True, "native": False,
                                   "subprocesses": False, "nonblocking": False, "args": ["--runtime", "1 2"],
                                   "coverage": True}
    assert len(report.token) >= 22  # at least 128 bits of token_urlsafe


def test_pasted_code_and_examples_are_accepted_with_default_options(client, store, app):
    assert post_form(client, {"source": "code", "code": "print('hi')\n", "duration": "", "rate": ""}).status_code == 303
    report = latest_report(store)
    assert report.script_name == "pasted_code.py"
    assert (report.options["duration_s"], report.options["rate_hz"]) == (
        app.config["DEFAULT_DURATION_S"], app.config["DEFAULT_RATE_HZ"])
    assert post_form(client, {"source": "example", "example": "server_simulation"}).status_code == 303
    report = latest_report(store)
    assert report.script_name == "server_simulation.py" and "def fibonacci" in report.script_source


def test_the_form_uses_only_the_chosen_source(client, store):
    response = post_form(client, {"source": "code", "code": "x = 1\n", "example": "io_bound"})
    assert response.status_code == 303
    assert latest_report(store).script_name == "pasted_code.py"


def test_an_htmx_submission_swaps_the_status_box_in_and_pushes_the_link(client, store):
    response = post_form(client, {"source": "code", "code": "x = 1\n"}, headers={"HX-Request": "true"})
    report = latest_report(store)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/r/{report.token}"
    # The one-time delete token comes first, outside the region that polls (so it stays on screen).
    notice, region = body.split("</section>", 1)
    assert "Keep this delete token" in notice
    assert body_region(region.strip()) and 'hx-trigger="every 1s"' in region
    assert "Position in the queue" in body and "<html" not in body


BAD_SCRIPT_INPUTS = [
    pytest.param({"source": "script", "script": upload(b"", "empty.py")}, 400, "is empty", id="empty-file"),
    pytest.param({"source": "script", "script": upload(b"   \n\n", "blank.py")}, 400, "is empty", id="blank-file"),
    pytest.param({"source": "script", "script": upload("x = 'caf\u00e9'\n".encode("latin-1"), "latin.py")},
                 400, "is not UTF-8 text", id="not-utf8"),
    pytest.param({"source": "script", "script": upload(b"\x7fELF\x02\x01\x01\x00\x00\x00", "prog.py")},
                 400, "looks like a binary file", id="binary"),
    pytest.param({"source": "script", "script": upload(GOOD_SCRIPT, "notes.txt")},
                 400, "only .py files can be profiled", id="not-py"),
    pytest.param({"source": "script", "script": upload(b"#" * 2000, "big.py")}, 413,
                 "scripts are limited to 1000 bytes", id="script-too-large"),
    pytest.param({"source": "code", "code": "x = 1\n", "duration": "999"}, 400,
                 "The duration must be between 1 and 60 seconds; 999 was given.", id="duration-out-of-range"),
    pytest.param({"source": "code", "code": "x = 1\n", "rate": "0"}, 400,
                 "The sampling rate must be between 1 and 1000", id="rate-out-of-range"),
    pytest.param({"source": "code", "code": "x = 1\n", "duration": "ten"}, 400,
                 "must be a whole number of seconds", id="duration-not-a-number"),
    pytest.param({"source": "code", "code": "x = 1\n", "args": "'unclosed"}, 400,
                 "check that every quote is closed", id="args-unbalanced"),
    pytest.param({"source": "example", "example": "no_such_example"}, 400,
                 "There is no example script called 'no_such_example'. The examples are: ", id="unknown-example"),
    pytest.param({"source": "code", "code": "   "}, 400, "Choose a .py file to upload", id="nothing-given"),
    pytest.param({"profile": upload(b"", "empty.speedscope.json")}, 400, "is empty", id="empty-profile"),
    pytest.param({"profile": upload(b"this is not a profile", "junk.speedscope.json")}, 400, "", id="bad-profile"),
]


@pytest.fixture
def small_app(data_dir):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "MAX_SCRIPT_BYTES": 1000,
                      "MAX_UPLOAD_BYTES": 4000, "MAX_QUEUED": 2})
    yield app
    app.extensions["flamedeck.store"].dispose()


@pytest.mark.parametrize(("fields", "status", "message"), BAD_SCRIPT_INPUTS)
def test_bad_form_input_is_refused_on_the_form_and_nothing_is_stored(small_app, fields, status, message):
    client, store = small_app.test_client(), small_app.extensions["flamedeck.store"]
    response = post_form(client, fresh(fields))
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'class="alert alert-error"' in body and message.replace("'", "&#39;") in body
    assert '<form class="card form-card"' in body  # the form is shown again
    assert report_count(store) == 0


@pytest.mark.parametrize(("fields", "status", "message"), BAD_SCRIPT_INPUTS)
def test_bad_api_input_gets_a_json_error_and_nothing_is_stored(small_app, fields, status, message):
    client, store = small_app.test_client(), small_app.extensions["flamedeck.store"]
    fields = {key: value for key, value in fresh(fields).items() if key != "source"}
    response = client.post("/api/v1/reports", data=fields, content_type="multipart/form-data")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert message in error and error.endswith(".")
    assert report_count(store) == 0


def test_a_request_over_max_upload_bytes_gets_413_with_a_sentence(small_app):
    client, store = small_app.test_client(), small_app.extensions["flamedeck.store"]
    token = csrf_token(client)
    response = client.post("/reports", data={"csrf_token": token, "script": upload(b"#" * 5000)},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than the 3.9 KiB limit" in response.get_data(as_text=True)
    response = client.post("/api/v1/reports", data={"script": upload(b"#" * 5000)}, content_type="multipart/form-data")
    assert response.status_code == 413 and "3.9 KiB limit" in response.get_json()["error"]
    assert report_count(store) == 0


def test_a_full_queue_gets_503_with_retry_after(small_app):
    client, store = small_app.test_client(), small_app.extensions["flamedeck.store"]
    for _ in range(2):
        assert client.post("/api/v1/reports", data={"code": "x = 1\n"}).status_code == 202
    response = client.post("/api/v1/reports", data={"code": "x = 1\n"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(small_app.config["RETRY_AFTER_S"])
    assert "Too many jobs are waiting" in response.get_json()["error"]
    form_response = post_form(client, {"source": "code", "code": "x = 1\n"})
    assert form_response.status_code == 503 and "Retry-After" in form_response.headers
    assert report_count(store) == 2


def test_a_form_without_its_csrf_token_is_refused(client, store):
    response = client.post("/reports", data={"source": "code", "code": "x = 1\n"})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert report_count(store) == 0


def test_two_scripts_at_once_through_the_api_are_refused(client, store):
    response = client.post("/api/v1/reports", data={"code": "x = 1\n", "example": "io_bound"})
    assert response.status_code == 400
    assert "Give only one script" in response.get_json()["error"]
    assert report_count(store) == 0


def test_the_api_answers_202_with_links(client, store):
    response = client.post("/api/v1/reports", data={"example": "io_bound.py", "duration": "2", "idle": "true"})
    assert response.status_code == 202
    document = response.get_json()
    assert document["status"] == "queued"
    assert document["url"] == f"http://flamedeck.test/r/{document['id']}"
    assert document["api_url"] == f"http://flamedeck.test/api/v1/reports/{document['id']}"
    status = client.get(document["api_url"]).get_json()
    assert status["status"] == "queued" and status["queue_position"] == 1
    assert status["options"]["idle"] is True and "summary" not in status


def test_the_coverage_box_left_unticked_turns_the_coverage_run_off(app):
    from webapp.views.options import parse_options

    assert parse_options({"coverage_shown": "1", "coverage": "1"}, app.config).coverage is True
    assert parse_options({"coverage_shown": "1"}, app.config).coverage is False
    assert parse_options({}, app.config).coverage is True  # the API: on unless coverage=off
    assert parse_options({"coverage": "off"}, app.config).coverage is False


def test_the_operator_chooses_whether_coverage_is_on_when_a_submission_does_not_say(tmp_path):
    for app in make_app(tmp_path, COVERAGE_BY_DEFAULT=False):
        client, store = app.test_client(), app.extensions["flamedeck.store"]
        unsaid = client.post("/api/v1/reports", data={"code": "x = 1\n"}).get_json()
        asked = client.post("/api/v1/reports", data={"code": "x = 1\n", "coverage": "on"}).get_json()
        assert row(store, unsaid["id"]).options["coverage"] is False
        assert row(store, asked["id"]).options["coverage"] is True
        box = re.search(r'<input type="checkbox" id="coverage"[^>]*>', client.get("/").get_data(as_text=True))
        assert box and "checked" not in box.group(0)
