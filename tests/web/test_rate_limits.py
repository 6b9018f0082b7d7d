"""Rate limits on submitting: per client address, form and API together, 429 with Retry-After and a sentence."""

from __future__ import annotations

import pytest

from webapp.config import BY_NAME

from .backends import backend_settings
from .conftest import insert_done_report, make_app, post_form, report_count

PER_MINUTE = 3
CODE = {"code": "x = 1\n"}


@pytest.fixture
def app(data_dir):
    yield from make_app(data_dir, RATE_LIMIT_PER_MINUTE=PER_MINUTE)


@pytest.fixture
def store(app):
    return app.extensions["flamedeck.store"]


def submit(client, address: str = "127.0.0.1", **headers):
    return client.post("/api/v1/reports", data=CODE, headers=headers, environ_base={"REMOTE_ADDR": address})


def assert_refused(response, store, stored: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert report_count(store) == stored  # nothing of the refused submission was kept


def test_the_defaults_stop_a_flood():
    assert BY_NAME["RATE_LIMIT_PER_MINUTE"].default == 30
    assert BY_NAME["RATE_LIMIT_PER_HOUR"].default == 300
    assert BY_NAME["TRUSTED_PROXIES"].default == 0


def test_the_api_answers_429_with_retry_after_and_a_sentence_past_the_limit(client, store):
    for _ in range(PER_MINUTE):
        response = submit(client)
        assert response.status_code == 202
        assert "Retry-After" not in response.headers
    response = submit(client)
    assert_refused(response, store, PER_MINUTE)
    error = response.get_json()["error"]
    assert error.startswith("Too many submissions from your address") and "3 a minute" in error
    assert "Retry-After" in error
    # Reading is never limited.
    report = insert_done_report(store)
    assert client.get(f"/api/v1/reports/{report.token}").status_code == 200
    assert client.get(f"/r/{report.token}").status_code == 200


def test_the_form_and_the_api_share_one_count_and_the_form_shows_the_sentence(client, store):
    for _ in range(PER_MINUTE - 1):
        assert submit(client).status_code == 202
    assert post_form(client, {"source": "code", "code": "x = 1\n"}).status_code == 303
    response = post_form(client, {"source": "code", "code": "y = 2\n"}, headers={"HX-Request": "true"})
    assert_refused(response, store, PER_MINUTE)
    page = response.get_data(as_text=True)
    assert "Too many submissions from your address" in page
    assert "y = 2" in page  # the form keeps what was typed


def test_each_address_has_its_own_count_and_a_forwarded_header_is_ignored_by_default(client, store):
    for _ in range(PER_MINUTE):
        assert submit(client, "10.0.0.1").status_code == 202
    assert submit(client, "10.0.0.2").status_code == 202
    # A client cannot pose as someone else unless the operator says a proxy stands in front.
    assert_refused(submit(client, "10.0.0.1", **{"X-Forwarded-For": "10.9.9.9"}), store, PER_MINUTE + 1)


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path):
    for app in make_app(tmp_path, RATE_LIMIT_PER_MINUTE=1, TRUSTED_PROXIES=1):
        client = app.test_client()
        proxy = "10.0.0.100"
        assert submit(client, proxy, **{"X-Forwarded-For": "203.0.113.1"}).status_code == 202
        assert submit(client, proxy, **{"X-Forwarded-For": "203.0.113.2"}).status_code == 202
        assert_refused(submit(client, proxy, **{"X-Forwarded-For": "203.0.113.1"}),
                       app.extensions["flamedeck.store"], 2)


@pytest.mark.slow
def test_in_team_mode_web_machines_share_the_count_through_redis(tmp_path):
    with backend_settings("distributed") as settings:
        apps = [next(make_app(tmp_path / name, RATE_LIMIT_PER_MINUTE=2, **settings)) for name in ("a", "b")]
        try:
            first, second = (app.test_client() for app in apps)
            assert submit(first).status_code == 202
            assert submit(second).status_code == 202
            response = submit(first)
            assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
        finally:
            for app in apps:
                app.extensions["flamedeck.store"].dispose()
