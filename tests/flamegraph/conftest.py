"""Fixtures for the flamegraph tests: the harness server, Chromium, pages that report problems.

A failing browser test leaves a full-page screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import re

import pytest

from .support import ARTIFACTS_DIR, VIEWPORT, Harness


@pytest.fixture(scope="session")
def harness(tmp_path_factory):
    served = Harness(tmp_path_factory.mktemp("harness"))
    yield served
    served.close()


class PageProblems:
    """What went wrong in a page: script errors, console errors, dialogs opened.

    Every dialog is recorded and dismissed, unless a test queued an answer for it.
    """

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.answers: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        if self.answers:
            dialog.accept(self.answers.pop(0))
        else:
            dialog.dismiss()


@pytest.fixture
def context_options():
    """Browser context options; a test may override this fixture (e.g. for HiDPI)."""
    return {"viewport": VIEWPORT}


@pytest.fixture
def page(browser, context_options, request):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        save_screenshot(page, request.node.nodeid)
    context.close()


def save_screenshot(page, name: str) -> None:
    """Leave a full-page screenshot of ``page`` in test-artifacts/, named after ``name``."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    file_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    try:
        page.screenshot(path=str(ARTIFACTS_DIR / f"{file_name}.png"), full_page=True)
    except Exception as error:  # a crashed page must not hide the test's own failure
        print(f"could not save a screenshot: {error}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
