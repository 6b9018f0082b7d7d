"""The home page in a real Chromium: drop a file onto it, read an example's description, see a refusal at
its field with the chosen file kept, list this browser's reports, and delete one (its link then says so)."""

from __future__ import annotations

import ast
import re

import pytest

from .live import PROJECT_ROOT, free_port, serve
from .test_browser_live import watch_console

pytestmark = pytest.mark.slow

PROFILE = PROJECT_ROOT / "tests" / "fixtures" / "pyspy-single.speedscope.json"
EXAMPLE = PROJECT_ROOT / "examples" / "io_bound.py"
SCRIPT = b"def spin():\n    return sum(range(1000))\n\nspin()\n"
REPORT_URL = re.compile(r"/r/[A-Za-z0-9_-]{22,}$")
RECENT_KEY = "flamedeck.recentReports"
UPLOAD_LIMIT = 100_000  # bytes: small, so that a too large upload is quick to make
REFUSAL_LOGGED = [  # what the browser and htmx log for the two deliberate refusals
    "Failed to load resource: the server responded with a status of 413 (REQUEST ENTITY TOO LARGE)",
    "Response Status Error Code 413 from /reports, [object HTMLDivElement]",
    "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)",
    "Response Status Error Code 400 from /reports, [object HTMLDivElement]",
]

DROP = """([name, bytes, type]) => {
  const transfer = new DataTransfer();
  const content = typeof bytes === "number" ? "#\\n".repeat(bytes / 2) : new Uint8Array(bytes);  // a size: made here
  transfer.items.add(new File([content], name, {type}));
  const zone = document.getElementById("drop-zone");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("home"), free_port(), workers=1, MAX_UPLOAD_BYTES=UPLOAD_LIMIT,
               MAX_SCRIPT_BYTES=UPLOAD_LIMIT // 2) as (_process, base_url):
        yield base_url


def drop(page, name: str, data: bytes | int, mime: str = "") -> str:
    """Drop one file (these bytes, or a comment this long) onto the drop zone; what the drop zone then says."""
    page.evaluate(DROP, [name, data if isinstance(data, int) else list(data), mime])
    return page.inner_text("#drop-status")


def chosen(page, selector: str) -> list[str]:
    return page.eval_on_selector(selector, "input => Array.from(input.files, file => file.name)")


def test_drop_examples_refusal_at_the_field_recent_reports_and_delete(server, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        problems = watch_console(page)
        page.goto(server + "/")

        # The example picker says what each example is for, and follows the choice.
        page.click("label[for=source-example]")
        page.select_option("#example", "io_bound")
        expected = ast.get_docstring(ast.parse(EXAMPLE.read_text())).splitlines()[0]
        assert page.inner_text("#example-description") == expected

        # Dropped files go where they belong, by name or by content; others are refused with a reason.
        has_project_field = page.locator("input[type=file][name=project]").count() > 0
        said = drop(page, "project.zip", b"PK\x03\x04rest")
        if has_project_field:
            assert chosen(page, "input[name=project]") == ["project.zip"]
        else:
            assert "Projects are not supported here yet" in said
        assert "neither a .py script" in drop(page, "notes.txt", b"just words")
        assert "“profile” (" in drop(page, "profile", PROFILE.read_bytes()[:600])  # no suffix: '{' says profile
        assert chosen(page, "#profile") == ["profile"]
        # An upload too large to be read: the server cannot send the values back, the page keeps them.
        drop(page, "big.py", 2 * UPLOAD_LIMIT, "text/x-python")
        page.fill("#duration", "2")
        page.click("button:has-text('Profile')")
        page.wait_for_selector("#submit-region .alert-error:has-text('larger than the 98 KiB limit')")
        assert chosen(page, "#script") == ["big.py"] and page.input_value("#duration") == "2"

        said = drop(page, "busy.py", SCRIPT, "text/x-python")
        assert said.startswith("“busy.py” (") and "“Script” form" in said
        assert chosen(page, "#script") == ["busy.py"] and page.is_checked("#source-upload")

        # A refusal stands at its field; the file and the other values stay.
        page.fill("#args", '--name "unclosed')
        page.click("button:has-text('Profile')")
        page.wait_for_selector("#args[aria-invalid=true]")
        assert page.get_attribute("#args", "aria-describedby") == "args-error"
        assert "check that every quote is closed" in page.inner_text("#args-error")
        assert page.evaluate("document.activeElement.id") == "args"
        assert chosen(page, "#script") == ["busy.py"] and page.input_value("#duration") == "2"
        page.fill("#args", "")
        page.click("button:has-text('Profile')")  # the kept file is what gets submitted
        page.wait_for_url(REPORT_URL)
        assert page.inner_text("h1") == "busy.py"

        page.goto(server + "/")
        drop(page, PROFILE.name, PROFILE.read_bytes(), "application/json")
        page.click("button:has-text('Import')")
        page.wait_for_url(REPORT_URL)
        report_url = page.url

        # This browser's reports, newest first, kept in its own storage; one can be removed from the list.
        page.goto(server + "/")
        page.wait_for_selector("#recent-reports:not([hidden])")
        titles = page.locator("#recent-list .recent-title")
        assert titles.all_inner_texts() == [PROFILE.name, "busy.py"]
        assert titles.first.get_attribute("href") == report_url.removeprefix(server)
        assert page.locator("#recent-list .recent-status").first.inner_text() == "Done"
        page.get_by_role("button", name="Remove busy.py from this list").click()
        assert titles.all_inner_texts() == [PROFILE.name]
        stored = page.evaluate(f"JSON.parse(localStorage.getItem('{RECENT_KEY}'))")
        assert [(entry["title"], entry["status"]) for entry in stored] == [(PROFILE.name, "done")]

        # Delete: the home page takes the report's place and its history entry; the link then says 410.
        titles.first.click()
        page.wait_for_url(report_url)
        history_length = page.evaluate("history.length")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url(server + "/")
        assert page.evaluate("history.length") == history_length  # replaced, not pushed
        assert page.title() == "Profile a Python script · flamedeck"
        assert "was deleted, with all its files" in page.inner_text(".flash")
        page.wait_for_selector("#drop-zone:not([hidden])")  # the home page works here too
        assert page.is_hidden("#recent-reports")
        assert page.evaluate(f"JSON.parse(localStorage.getItem('{RECENT_KEY}'))") == []
        snapshots = page.evaluate("sessionStorage.getItem('htmx-history-cache') || ''")
        assert report_url.removeprefix(server) not in snapshots

        gone = page.request.get(report_url)
        assert gone.status == 410 and "This report was deleted" in gone.text()
        api = page.request.get(report_url.replace("/r/", "/api/v1/reports/"))
        assert api.status == 410 and api.json()["error"].startswith("This report was deleted")
        # No CSP violation, no script error: only what is logged for the deliberate refusals.
        assert problems == REFUSAL_LOGGED
    finally:
        context.close()
