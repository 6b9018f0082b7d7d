"""The optional upload token: when the operator sets one, submitting needs it and reading never does."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from .conftest import insert_done_report, make_app, own_csrf_token, post_form, report_count

TOKEN = "s3cret-upload-token"
PROFILE = Path(__file__).resolve().parents[1] / "fixtures" / "pyspy-single.speedscope.json"
TOKEN_FIELD = 'name="upload_token"'
FORM_ERROR = 'class="alert alert-error" id="script-upload-token-error"'


@pytest.fixture
def app(data_dir):
    """An instance whose operator set FLAMEDECK_UPLOAD_TOKEN."""
    yield from make_app(data_dir, UPLOAD_TOKEN=TOKEN)


@pytest.fixture
def store(app):
    return app.extensions["flamedeck.store"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def submissions():
    """One of each kind of submission the API takes (fresh file objects every call)."""
    return {
        "code": {"code": "x = 1\n"},
        "example": {"example": "io_bound"},
        "script": {"script": (io.BytesIO(b"print('hi')\n"), "hi.py")},
        "profile": {"profile": (io.BytesIO(PROFILE.read_bytes()), PROFILE.name)},
    }


def test_without_the_setting_anyone_may_submit(tmp_path):
    for app in make_app(tmp_path / "open"):
        client = app.test_client()
        assert client.post("/api/v1/reports", data={"code": "x = 1\n"}).status_code == 202
        assert TOKEN_FIELD not in client.get("/").get_data(as_text=True)
        assert post_form(client, {"source": "code", "code": "x = 1\n"}).status_code == 303


@pytest.mark.parametrize("kind", ["code", "example", "script", "profile"])
def test_an_api_submission_without_the_token_is_refused_and_nothing_is_stored(client, store, kind):
    response = client.post("/api/v1/reports", data=submissions()[kind], content_type="multipart/form-data")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.get_json()["error"]
    assert "nothing was stored" in error and "Authorization: Bearer <token>" in error
    assert report_count(store) == 0


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer wrong", f"Basic {TOKEN}", "Bearer "])
def test_a_wrong_token_or_scheme_is_refused(client, store, header):
    response = client.post("/api/v1/reports", data={"code": "x = 1\n"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"].endswith(".")
    assert report_count(store) == 0


@pytest.mark.parametrize("kind", ["code", "example", "script", "profile"])
def test_the_right_token_submits(client, store, kind):
    response = client.post("/api/v1/reports", data=submissions()[kind], headers=bearer(TOKEN),
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    assert report_count(store) == 1


def test_reading_reports_needs_no_token(client, store):
    report = insert_done_report(store)
    assert client.get(f"/api/v1/reports/{report.token}").get_json()["status"] == "done"
    assert client.get(f"/r/{report.token}").status_code == 200
    download = client.get(f"/r/{report.token}/profile.speedscope.json")
    assert download.status_code == 200 and download.data.startswith(b'{"$schema"')
    assert client.get("/").status_code == 200


def test_deleting_needs_the_delete_token_not_the_upload_token(client, store):
    created = client.post("/api/v1/reports", data={"code": "x = 1\n"}, headers=bearer(TOKEN)).get_json()
    url = f"/api/v1/reports/{created['id']}"
    assert client.delete(url, headers=bearer(TOKEN)).status_code == 403
    assert client.delete(url, headers={"X-Delete-Token": created["delete_token"]}).status_code == 204


def test_the_form_asks_once_and_the_browser_remembers(app, client, store):
    page = client.get("/").get_data(as_text=True)
    assert page.count(TOKEN_FIELD) == 2 and 'type="password"' in page  # script form and import form
    first = post_form(client, {"source": "code", "code": "x = 1\n", "upload_token": TOKEN})
    assert first.status_code == 303
    assert TOKEN_FIELD not in client.get("/").get_data(as_text=True)
    second = post_form(client, {"source": "example", "example": "io_bound"})
    assert second.status_code == 303
    assert report_count(store) == 2

    stranger = app.test_client()
    response = stranger.post("/reports", data={"csrf_token": own_csrf_token(stranger), "source": "code",
                                               "code": "x = 1\n"}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert FORM_ERROR in body and "Enter it in the upload token field" in body
    assert 'aria-invalid="true"' in body and TOKEN_FIELD in body
    assert report_count(store) == 2


def test_a_wrong_token_in_the_form_is_refused_at_the_field(client, store):
    response = post_form(client, {"source": "code", "code": "x = 1\n", "upload_token": "guess"},
                         headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert FORM_ERROR in body and "not this server&#39;s" in body and "guess" not in body
    assert "<html" not in body and 'id="submit-region"' in body  # htmx swaps the form region alone
    assert report_count(store) == 0


def test_a_token_the_operator_has_changed_is_asked_for_again(app, client, store):
    assert post_form(client, {"source": "code", "code": "x = 1\n", "upload_token": TOKEN}).status_code == 303
    app.config["UPLOAD_TOKEN"] = "rotated-token"
    assert post_form(client, {"source": "code", "code": "x = 1\n"}).status_code == 403
    assert TOKEN_FIELD in client.get("/").get_data(as_text=True)
    assert report_count(store) == 1
