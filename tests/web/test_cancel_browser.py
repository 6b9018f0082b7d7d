"""In a real Chromium: the browser that submitted a job cancels it after confirming, under the strict
CSP; a browser that only has the link sees no Cancel button."""

from __future__ import annotations

import re

import pytest

from .live import free_port, serve
from .test_browser_live import watch_console

pytestmark = pytest.mark.slow

SPIN_SCRIPT = (
    "import time\n"
    "end = time.monotonic() + 60\n"
    "while time.monotonic() < end:\n"
    "    sum(range(1000))\n"
)
CONFIRMATION = "Cancel this profiling job? A running script is stopped now, and the report keeps what was sampled so far."
RUNNING_TIMEOUT_MS = 30_000
STOPPED_TIMEOUT_MS = 20_000
POLLS_MS = 2_500  # long enough for the status box to poll twice


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("cancel"), free_port(), workers=1) as (_process, base_url):
        yield base_url


def submit_running_job(page, server: str) -> str:
    """Paste a 60-second busy loop into the form, as a user would; its report URL once it runs."""
    page.goto(server + "/")
    page.click("label[for=source-code]")  # the source choice is a row of tabs
    page.fill("#code", SPIN_SCRIPT)
    page.fill("#duration", "30")
    page.click("button:has-text('Profile')")
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{22,}$"))
    page.wait_for_selector("#report[data-status='running']", timeout=RUNNING_TIMEOUT_MS)
    return page.url


def test_the_owner_cancels_a_running_job_after_confirming_and_a_stranger_sees_no_cancel(server, browser):
    owner = browser.new_context()
    stranger = browser.new_context()
    try:
        page = owner.new_page()
        problems = watch_console(page)
        report_url = submit_running_job(page, server)

        other = stranger.new_page()
        other.goto(report_url)
        other.wait_for_selector("#report[data-status='running']")
        other.wait_for_timeout(POLLS_MS)  # the polled region does not bring one either
        assert other.get_by_role("button", name="Cancel").count() == 0

        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.get_by_role("button", name="Cancel").click()
        page.wait_for_timeout(POLLS_MS)
        assert page.get_attribute("#report", "data-status") == "running"
        assert "Stopping" not in page.inner_text("#report")  # dismissed: nothing was sent

        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        page.get_by_role("button", name="Cancel").click()
        page.wait_for_selector("#report[data-status='cancelled']", timeout=STOPPED_TIMEOUT_MS)

        assert asked == [CONFIRMATION, CONFIRMATION]
        assert page.inner_text(".report-header .badge") == "Cancelled"
        assert "The run was cancelled" in page.inner_text(".report-header")
        assert problems == []  # no CSP violation, no script error
    finally:
        owner.close()
        stranger.close()
