"""Only whoever submitted a job may cancel it: the delete token (API) or the browser session that
created the report (page), exactly as for Delete; everyone else sees no Cancel button."""

from __future__ import annotations

import pytest

from .conftest import csrf_token, own_csrf_token, post_form, row
from webapp.store import CANCELLED, QUEUED, RUNNING
from webapp.store.lifecycle import claim

SCRIPT_FIELDS = {"code": "x = 1\n", "duration": "10"}
NO_TOKEN = "Only whoever submitted this job can cancel it, and no delete token was given"
WRONG_TOKEN = "The delete token does not match this report, so its job was not cancelled."
CANCEL_FORM = 'class="cancel-form"'


def submit_through_api(client) -> dict:
    response = client.post("/api/v1/reports", data=SCRIPT_FIELDS)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def submit_through_form(client) -> str:
    """A queued report made by this browser (which now holds its delete token); its page URL."""
    submitted = post_form(client, {"source": "code", **SCRIPT_FIELDS})
    page_url = submitted.headers["Location"]
    client.get(page_url)  # the one-time delete-token notice
    return page_url


def start_running(store, report_token: str) -> None:
    with store.writing() as session:
        assert claim(session, row(store, report_token).id, lease_s=30)


@pytest.mark.parametrize("headers, refusal", [({}, NO_TOKEN), ({"X-Delete-Token": "not-the-token"}, WRONG_TOKEN)])
def test_the_api_refuses_to_cancel_without_the_right_delete_token(client, store, headers, refusal):
    created = submit_through_api(client)
    response = client.post(f"/api/v1/reports/{created['id']}/cancel", headers=headers)
    assert response.status_code == 403
    assert refusal in response.get_json()["error"]
    assert response.get_json()["error"].endswith(".")
    assert row(store, created["id"]).status == QUEUED and not row(store, created["id"]).cancel_requested


def test_the_api_cancels_a_queued_job_with_its_delete_token(client, store):
    created = submit_through_api(client)
    response = client.post(f"/api/v1/reports/{created['id']}/cancel",
                           headers={"X-Delete-Token": created["delete_token"]})
    assert response.status_code == 202 and response.get_json()["status"] == CANCELLED
    assert row(store, created["id"]).status == CANCELLED


def test_the_api_asks_a_running_job_to_stop_only_with_its_delete_token(client, store):
    created = submit_through_api(client)
    start_running(store, created["id"])
    assert client.post(f"/api/v1/reports/{created['id']}/cancel").status_code == 403
    assert not row(store, created["id"]).cancel_requested

    response = client.post(f"/api/v1/reports/{created['id']}/cancel",
                           headers={"X-Delete-Token": created["delete_token"]})
    assert response.status_code == 202 and response.get_json()["status"] == RUNNING
    assert row(store, created["id"]).cancel_requested


def test_the_submitting_browser_sees_cancel_with_a_confirmation_and_another_client_does_not(client, store, app):
    page_url = submit_through_form(client)
    owner_page = client.get(page_url).get_data(as_text=True)
    assert CANCEL_FORM in owner_page and 'hx-confirm="Cancel this profiling job?' in owner_page
    stranger = app.test_client()
    assert CANCEL_FORM not in stranger.get(page_url).get_data(as_text=True)

    start_running(store, page_url.rsplit("/", 1)[-1])  # and while it runs, in the polled region
    polled = {"HX-Request": "true"}
    assert CANCEL_FORM in client.get(page_url, headers=polled).get_data(as_text=True)
    stranger_region = stranger.get(page_url, headers=polled).get_data(as_text=True)
    assert "Profiling" in stranger_region and CANCEL_FORM not in stranger_region


def test_another_browser_cannot_cancel_through_the_page(client, store, app):
    page_url = submit_through_form(client)
    stranger = app.test_client()
    refused = stranger.post(f"{page_url}/cancel", data={"csrf_token": own_csrf_token(stranger)})
    assert refused.status_code == 403 and NO_TOKEN in refused.get_data(as_text=True)
    assert row(store, page_url.rsplit("/", 1)[-1]).status == QUEUED


def test_the_submitting_browser_cancels_a_queued_job_and_the_page_says_so(client, store):
    page_url = submit_through_form(client)
    response = client.post(f"{page_url}/cancel", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert row(store, page_url.rsplit("/", 1)[-1]).status == CANCELLED
    page = client.get(page_url).get_data(as_text=True)
    assert "Cancelled" in page and "cancelled before it started" in page and "hx-trigger" not in page


def test_the_submitting_browser_asks_a_running_job_to_stop(client, store):
    page_url = submit_through_form(client)
    start_running(store, page_url.rsplit("/", 1)[-1])
    response = client.post(f"{page_url}/cancel", data={"csrf_token": csrf_token(client)},
                           headers={"HX-Request": "true"})
    region = response.get_data(as_text=True)
    assert response.status_code == 200 and "Stopping" in region and CANCEL_FORM not in region
    report = row(store, page_url.rsplit("/", 1)[-1])
    assert report.status == RUNNING and report.cancel_requested
