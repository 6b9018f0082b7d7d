"""A big profile through a real `flamedeck serve`: streamed to disk, imported by the worker with
progress, while the web server keeps answering; the web processes never hold the file in memory.

The file's size is a setting of the test (FLAMEDECK_TEST_BIG_IMPORT_MB, 200 by default so that CI
stays fast); the README gives the figure of a 1 GB import measured by hand with it.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from tests.web.live import free_port, serve

SIZE_MB = int(os.environ.get("FLAMEDECK_TEST_BIG_IMPORT_MB", "200"))
FRAMES, DISTINCT_STACKS, BLOCK_SAMPLES = 400, 2_000, 20_000
PAGE_WITHIN_S = 1.0
IMPORT_TIMEOUT_S = 600
UPLOAD_CHUNK_BYTES = 1024 * 1024


def write_big_speedscope(path: Path, size_bytes: int) -> int:
    """A py-spy-like speedscope file of at least ``size_bytes``, written block by block (never whole
    in memory): one block of samples from a pool of deep stacks, repeated. Returns its sample count."""
    rng = random.Random(11)
    stacks = [b"[" + b",".join(b"%d" % rng.randrange(FRAMES) for _ in range(rng.randint(30, 60))) + b"]"
              for _ in range(DISTINCT_STACKS)]
    block = b",".join(rng.choice(stacks) for _ in range(BLOCK_SAMPLES))
    blocks = max(1, size_bytes // len(block) + 1)
    samples = blocks * BLOCK_SAMPLES
    frames = b",".join(b'{"name":"f%d","file":"/srv/app/m%d.py","line":%d}' % (k, k % 40, k + 1)
                       for k in range(FRAMES))
    weights = b",".join([b"0.01"] * BLOCK_SAMPLES)
    with path.open("wb") as out:
        out.write(b'{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[{"type":"sampled",'
                  b'"name":"Thread 1 \\"MainThread\\"","unit":"seconds","startValue":0,"endValue":%.2f,"samples":['
                  % (samples * 0.01))
        for k in range(blocks):
            out.write(b"," if k else b"")
            out.write(block)
        out.write(b'],"weights":[')
        for k in range(blocks):
            out.write(b"," if k else b"")
            out.write(weights)
        out.write(b']}],"shared":{"frames":[' + frames + b']},"exporter":"py-spy@0.4.3","name":"big"}')
    return samples


def post_file(base_url: str, path: Path) -> tuple[int, dict]:
    """POST /api/v1/reports with the file as ``profile``, streamed from disk (curl -F profile=@path)."""
    boundary = secrets.token_hex(12)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/json\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with path.open("rb") as source:
            while chunk := source.read(UPLOAD_CHUNK_BYTES):
                yield chunk
        yield tail

    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=IMPORT_TIMEOUT_S)
    connection.request("POST", "/api/v1/reports", body=body(), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + path.stat().st_size + len(tail))})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


class PeakRss(threading.Thread):
    """The largest resident size any gunicorn process of the server reached while this ran."""

    def __init__(self, serve_pid: int):
        super().__init__(daemon=True)
        self.processes = [child for child in psutil.Process(serve_pid).children(recursive=True)
                          if "gunicorn" in " ".join(child.cmdline())]
        self.peak = self.current()
        self.baseline = self.peak
        self._done = threading.Event()

    def current(self) -> int:
        sizes = []
        for process in self.processes:
            try:
                sizes.append(process.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        return max(sizes)

    def run(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, self.current())

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_a_big_import_streams_to_disk_runs_in_the_worker_with_progress_while_pages_answer(tmp_path):
    profile = tmp_path / "big.speedscope.json"
    samples = write_big_speedscope(profile, SIZE_MB * 1024 * 1024)
    size = profile.stat().st_size
    # fast=False: production lease and heartbeat timings (a big parse may hold the GIL for seconds).
    with serve(tmp_path / "data", free_port(), workers=1, fast=False) as (process, base_url):
        get_json(f"{base_url}/api/v1/environment")  # the web processes have started and imported their code
        memory = PeakRss(process.pid)
        memory.start()
        status, created = post_file(base_url, profile)
        assert status == 202, created
        assert created["status"] == "queued"

        seen_progress, page_times, seen_status_box = [], [], False
        deadline = time.monotonic() + IMPORT_TIMEOUT_S
        while True:
            document = get_json(created["api_url"])
            if document["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, document
            if document["status"] == "running":
                seen_progress.append(document["progress"])
                started = time.monotonic()
                with urllib.request.urlopen(f"{base_url}/", timeout=30) as home:
                    assert home.status == 200
                page_times.append(time.monotonic() - started)
                if not seen_status_box:
                    with urllib.request.urlopen(created["url"], timeout=30) as page:
                        html = page.read().decode()
                    seen_status_box = "Importing…" in html and "read" in html
            time.sleep(0.25)
        peak = memory.stop()

    assert document["status"] == "done", document["outcome"]
    assert document["kind"] == "import" and document["summary"]["total_samples"] == samples
    assert {"profile.speedscope.json", "profile.collapsed.txt", "flamegraph.svg"} <= set(document["artifacts"])
    assert seen_progress and all(p["bytes_total"] == size for p in seen_progress), seen_progress
    assert seen_status_box, "the report page never showed the import's status box"
    assert max(page_times) < PAGE_WITHIN_S, page_times
    # The upload streamed to a file: no web process grew by more than a small part of it.
    assert peak - memory.baseline < min(64 * 1024 * 1024, size // 4), (peak, memory.baseline, size)
    assert not list((tmp_path / "data" / "uploads").glob("*.upload")), "the imported upload was not removed"
