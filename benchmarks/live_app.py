"""What the browser benchmarks share: the synthetic profile written to disk, a report imported
into the real app through its API, and a page in headless Chromium timed to a performance mark.

Used by ``benchmarks/browser.py`` (the report page) and ``benchmarks/compare.py`` (the compare
page and API); the entry script puts the project root on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE_TIMEOUT_MS = 180_000  # speedscope needs several seconds for a million samples
IMPORT_TIMEOUT_S = 600  # upload and import of a ~200 MB file; also the server's request limit
IMPORT_POLL_S = 0.5  # once a second or so: polling must not slow the import it waits for
VIEWPORT = {"width": 1400, "height": 900}


def write_synthetic(path: Path, samples: int, change=None) -> None:
    """``benchmarks/ingest.py``'s py-spy file of ``samples`` samples at ``path`` (``change``: see
    its ``write_profiles``); the collapsed copy it also writes is not needed here and is removed."""
    spec = importlib.util.spec_from_file_location("ingest_benchmark", ROOT / "benchmarks" / "ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    collapsed = path.with_name(path.name + ".collapsed.txt")
    module.write_profiles(path, collapsed, samples, change=change)
    collapsed.unlink()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=IMPORT_TIMEOUT_S) as response:
        return json.loads(response.read())


def import_report(base_url: str, source: Path, upload_name: str) -> dict:
    """POST the file to the API as ``profile`` (multipart, like ``curl -F profile=@file``), wait for the
    import (the worker runs it) to end; the report's document."""
    boundary = secrets.token_hex(16)
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="profile"; filename="{upload_name}"\r\n'
            "Content-Type: application/json\r\n\r\n").encode()
    body = head + source.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base_url}/api/v1/reports", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=IMPORT_TIMEOUT_S) as response:
        created = json.loads(response.read())
    deadline = time.monotonic() + IMPORT_TIMEOUT_S
    while (document := get_json(created["api_url"]))["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the import did not finish within {IMPORT_TIMEOUT_S} s")
        time.sleep(IMPORT_POLL_S)
    if document["status"] != "done":
        raise RuntimeError(f"the import did not finish: {document.get('outcome')}")
    return document


class TimedPage:
    """A page opened in a fresh browser context (nothing from the browser's cache), waited for
    until ``mark`` is set; ``drawn_s`` is the mark's time from navigation. Use with ``with``."""

    def __init__(self, browser, url: str, mark: str, init_script: str | None = None):
        self.context = browser.new_context(viewport=VIEWPORT)
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        try:
            self.page.goto(url)
            self.page.wait_for_function(f"() => performance.getEntriesByName({mark!r}).length > 0",
                                        timeout=PAGE_TIMEOUT_MS)
        except Exception:
            self.context.close()
            raise
        self.drawn_s = self.page.evaluate(f"performance.getEntriesByName({mark!r})[0].startTime") / 1000

    def received_s(self, resource_suffix: str) -> tuple[float, float]:
        """Seconds from navigation until the page's HTML, and the resource ending so, were received."""
        page_ms, resource_ms = self.page.evaluate("""(suffix) => [
            performance.getEntriesByType('navigation')[0].responseEnd,
            performance.getEntriesByType('resource').find((entry) => entry.name.endsWith(suffix)).responseEnd,
        ]""", resource_suffix)
        return page_ms / 1000, resource_ms / 1000

    def __enter__(self) -> TimedPage:
        return self

    def __exit__(self, *exc_info) -> None:
        self.context.close()
        if self.errors and exc_info[0] is None:
            raise RuntimeError(f"the page failed: {self.errors}")
