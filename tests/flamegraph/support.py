"""Shared by the flamegraph tests: a small known profile and a static harness server.

The harness serves the repository's ``static/`` plus generated pages under the same
strict Content-Security-Policy the app uses, so the module is tested the way it runs.
"""

from __future__ import annotations

import functools
import html
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from webapp.profiles.model import Frame, Profile

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = ROOT / "test-artifacts"
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'")
VIEWPORT = {"width": 1200, "height": 800}

SCRIPT = "/job/app.py"
JSON_LOADS = "/usr/lib/python3.11/json/__init__.py"
REQUESTS = "/srv/venv/lib/python3.11/site-packages/requests/api.py"
THREADING = "/usr/lib/python3.11/threading.py"
XSS_NAME = "<img src=x onerror=alert(1)>"
NASTY_NAME = "]]> \"quoted\" & 'single' </script>"


def known_profile() -> Profile:
    """Two threads of 100 samples each, whose every figure the tests can work out by hand.

    MainThread: main>compute:10>loads 40, main>compute:12 20, main>fetch>native_read 30,
                main>XSS 10.   worker: run>work>compute:10 100.
    """
    profile = Profile(name="app.py", interval_s=0.01)

    def stack(*frames: Frame) -> int:
        return profile.intern_stack(tuple(profile.intern_frame(f) for f in frames))

    main, compute10, compute12 = Frame("main", SCRIPT, 1), Frame("compute", SCRIPT, 10), Frame("compute", SCRIPT, 12)
    loads = Frame("loads", JSON_LOADS, 299)
    fetch, native = Frame("fetch", REQUESTS, 59), Frame("native_read", "", 0)
    xss, nasty = Frame(XSS_NAME, SCRIPT, 30), Frame(NASTY_NAME, SCRIPT, 31)
    run, work = Frame("run", THREADING, 1000), Frame("work", SCRIPT, 40)
    main_thread = profile.add_thread("MainThread")
    main_thread.append(stack(main, compute10, loads), 25)
    main_thread.append(stack(main, compute12), 20)
    main_thread.append(stack(main, compute10, loads), 15)
    main_thread.append(stack(main, fetch, native), 30)
    main_thread.append(stack(main, xss), 6)
    main_thread.append(stack(main, xss, nasty), 4)
    worker = profile.add_thread("worker")
    worker.append(stack(run, work, compute10), 100)
    return profile


class _Handler(SimpleHTTPRequestHandler):
    """Static files with the app's CSP; the vendored speedscope keeps its own needs."""

    def end_headers(self) -> None:
        if not self.path.startswith("/static/vendor/"):
            self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


class Harness:
    """A served directory: ``static/`` from the repository plus generated pages."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / "static").symlink_to(ROOT / "static", target_is_directory=True)
        handler = functools.partial(_Handler, directory=str(directory))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_file(self, name: str, data: bytes) -> str:
        (self.directory / name).write_bytes(data)
        return f"{self.base_url}/{name}"

    def add_page(self, name: str, flame_json: bytes, script_file: str = "", rows=(), share_url: str = "") -> str:
        """A report-like page mounting the flamegraph on ``flame_json``; ``rows`` are
        (name, file) pairs of a hot-functions table whose rows highlight the function;
        ``share_url`` adds the report header's "Copy link to this view" button."""
        self.add_file(f"{name}.flame.json", flame_json)
        table = "".join(
            f'<tr data-flame-name="{html.escape(n)}" data-flame-file="{html.escape(f)}" tabindex="0">'
            f"<td>{html.escape(n)}</td></tr>" for n, f in rows)
        copy_view = (f'<button type="button" data-copy-view="{html.escape(share_url)}">Copy link to this view</button>'
                     if share_url else "")
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flamegraph harness</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/css/flamegraph.css">
<script type="module" src="/static/js/flamegraph.js"></script></head>
<body><main><h1>Report</h1>
{copy_view}
<section id="flamegraph" data-flame-url="{name}.flame.json" data-script-file="{html.escape(script_file)}">
<h2>Flamegraph</h2></section>
<table id="hot">{table}</table></main></body></html>"""
        return self.add_file(f"{name}.html", page.encode())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- reading a page that shows the flamegraph (harness or the real app) -------------------------
GRAPH = "document.getElementById('flamegraph').flamegraph"  # the controller mountFlamegraph returns


def wait_until_drawn(page) -> None:
    page.wait_for_function("() => performance.getEntriesByName('flamegraph:drawn').length > 0")


def snapshot(page) -> dict:
    return page.evaluate(f"{GRAPH}.snapshot()")


def crumbs(page) -> list[str]:
    return page.locator("#flamegraph .fg-crumb").all_text_contents()


def is_drawn(page, label: str) -> bool:
    return page.evaluate(f"(label) => {GRAPH}.locate(label) !== null", label)


def centre_of(page, label: str) -> tuple[float, float]:
    """Window coordinates of the middle of the frame labelled ``label``, scrolled into view."""
    box = page.evaluate(f"(label) => {GRAPH}.locate(label)", label)
    assert box is not None, f"{label!r} is not drawn"
    middle = box["y"] + box["height"] / 2
    if not 0 <= middle < page.viewport_size["height"]:
        page.evaluate("(dy) => window.scrollBy(0, dy)", middle - page.viewport_size["height"] / 2)
        box = page.evaluate(f"(label) => {GRAPH}.locate(label)", label)
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def canvas_signature(page) -> dict:
    """How many canvas pixels are painted, and a checksum of the picture."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('#flamegraph canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0, sum = 0;
        for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i + 3] > 0) painted++;
            sum = (sum * 31 + pixels[i] + 7 * pixels[i + 1] + 13 * pixels[i + 2] + pixels[i + 3]) % 1000000007;
        }
        return { painted, sum, total: pixels.length / 4 };
    }""")
