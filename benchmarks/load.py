"""Load benchmark: report pages and artifacts under 32 concurrent readers while 20 uploads run.

    .venv/bin/python benchmarks/load.py                    # 30 s per phase, embedded (SQLite)
    .venv/bin/python benchmarks/load.py --duration 10      # shorter
    .venv/bin/python benchmarks/load.py --distributed      # PostgreSQL + Redis (as the tests find them)

Loopback only, bounded in time (two phases of --duration seconds, plus set-up and the wait
for the uploads). Starts, on a fresh data directory and a free port, a job worker
(``python -m webapp.worker --workers 2``) and gunicorn with 2 worker processes serving
the app plus one extra static directory (``benchmarks/load_app.py``). It profiles one
example script to get a finished report, then:

* phase 1: --clients readers (default 32), each on its own keep-alive connection, read the
  report page and its largest artifact in turn (asking for gzip, as browsers do) for
  --duration seconds, while 20 scripts are uploaded through the API, spread over the
  first half of the phase; each upload must then finish (status done);
* phase 2: the same readers read only the artifact, for --duration seconds;
* phase 3: the same readers read a static file of the same size as the artifact's response
  body (its gzip bytes), served by the same gunicorn, for --duration seconds.

Prints p50/p99 latency and requests/s per kind. Targets: no errors, p99 <= 50 ms for the
page and the artifact in phase 1, the artifact's requests/s (phase 2) at least 50 % of the
static file's (phase 3), every upload done. Exit status 1 when a target is missed. The load
generator runs on the same machine (4 processes of threads) and competes with the server
for the CPU, as do the profiling jobs of the uploads in phase 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_clients import HOST, REQUEST_TIMEOUT_S, Stats, run_phase  # noqa: E402  (needs the path above)
from tests.web.live import environment, free_port, wait_for_port  # noqa: E402

WEB_PROCESSES = 2
JOB_WORKERS = 2
REPORT_EXAMPLE = {"example": "server_simulation", "duration": "5", "rate": "100", "args": "--runtime 1"}
UPLOAD_SCRIPT = (
    "import time\n"
    "def work(seconds):\n"
    "    end = time.monotonic() + seconds\n"
    "    while time.monotonic() < end:\n"
    "        sum(i * i for i in range(1000))\n"
    "work(0.3)\n"
    "time.sleep(0.2)\n"
)
UPLOAD_FIELDS = {"duration": "5", "rate": "100"}
SETUP_TIMEOUT_S = 120
UPLOAD_WAIT_S = 120
TARGET_P99_MS = 50.0
TARGET_STATIC_SHARE = 0.5
STATIC_NAME = "artifact-sized.bin"


def main(argv: list[str]) -> int:
    """Run both phases and print the figures; 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase (default 30)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent readers (default 32)")
    parser.add_argument("--uploads", type=int, default=20, help="scripts uploaded during phase 1 (default 20)")
    parser.add_argument("--web-threads", type=int, default=4, help="threads per gunicorn process (default 4)")
    parser.add_argument("--worker-nice", type=int, default=10, metavar="N",
                        help="run the job worker at this niceness, as on a machine shared with the web (default 10; "
                             "0: same priority)")
    parser.add_argument("--report-recheck-s", type=float, default=None, metavar="S",
                        help="FLAMEDECK_REPORT_RECHECK_S for the web (0: a database lookup on every request)")
    parser.add_argument("--distributed", action="store_true", help="PostgreSQL + Redis instead of SQLite")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        settings = stack.enter_context(_backend(args.distributed))
        if args.report_recheck_s is not None:
            settings = settings | {"REPORT_RECHECK_S": args.report_recheck_s}
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flamedeck-load-")))
        port = free_port()
        stack.enter_context(_processes(base, port, settings, args.web_threads, args.worker_nice))
        report = _finished_report(port)
        artifact_path, static_path = _artifact_and_static_twin(port, report, base / "static")
        print(f"flamedeck load: gunicorn {WEB_PROCESSES} x {args.web_threads} threads, {args.clients} clients, "
              f"{args.duration:g} s per phase, {'PostgreSQL + Redis' if args.distributed else 'SQLite + SQLite queue'}, "
              f"job worker at nice {args.worker_nice}, {os.cpu_count()} CPUs")
        uploads = _Uploads(port, args.uploads, spread_s=args.duration / 2)
        uploads.start()
        phase1 = run_phase(port, [("page", report["page"]), ("artifact", artifact_path)], args.clients, args.duration)
        uploads.join()
        done = uploads.wait_done(UPLOAD_WAIT_S)
        alone = run_phase(port, [("artifact", artifact_path)], args.clients, args.duration)
        static = run_phase(port, [("static", static_path)], args.clients, args.duration)
    return _print_results(args, report, phase1, alone["artifact"], static["static"], uploads, done)


@contextmanager
def _backend(distributed: bool):
    if not distributed:
        yield {}
        return
    from tests.web.backends import REDIS_URL, fresh_postgres_database, redis_queue, services_unreachable

    problem = services_unreachable()
    if problem:
        raise SystemExit(problem)
    with fresh_postgres_database() as database_url, redis_queue() as queue_name:
        yield {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "QUEUE_NAME": queue_name}


@contextmanager
def _processes(base: Path, port: int, settings: dict, web_threads: int, worker_nice: int):
    """The job worker and gunicorn (with the extra static route), stopped at the end."""
    from webapp.serve import gunicorn_command

    data_dir, static_dir = base / "data", base / "static"
    static_dir.mkdir()
    env = environment(data_dir, fast=False, **settings) | {"LOAD_BENCH_STATIC_DIR": str(static_dir)}
    config = {"WEB_PROCESSES": WEB_PROCESSES, "WEB_THREADS": web_threads, "WEB_TIMEOUT_S": 120,
              "SHUTDOWN_GRACE_S": 5}
    command = gunicorn_command(HOST, port, config)
    # Like the Procfile's web process: no access log (one line per request costs CPU here).
    command = [part for part in command if part not in ("--access-logfile", "-")]
    command[-1] = "benchmarks.load_app:create_app_with_static()"
    log = open(base / "processes.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "webapp.worker", "--workers", str(JOB_WORKERS)],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=(lambda: os.nice(worker_nice)) if worker_nice else None)
    web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout_s=SETUP_TIMEOUT_S)
        yield
    finally:
        for process in (web, worker):
            process.terminate() if process is web else process.send_signal(2)  # gunicorn: TERM; worker: INT
        for process in (web, worker):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, dict]:
    boundary = secrets.token_hex(12)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f"Content-Type: text/x-python\r\n\r\n".encode() + data + b"\r\n"
              for name, (filename, data) in files.items()]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _api_status(port: int, report_id: str) -> dict:
    status, body = _request(port, "GET", f"/api/v1/reports/{report_id}")
    if status != 200:
        raise SystemExit(f"GET /api/v1/reports/{report_id} answered {status}: {body[:200]!r}")
    return json.loads(body)


def _finished_report(port: int) -> dict:
    """Profile one example through the API and wait until its report is done."""
    body, headers = _multipart(REPORT_EXAMPLE, {})
    status, answer = _request(port, "POST", "/api/v1/reports", body, headers)
    if status != 202:
        raise SystemExit(f"could not submit the example ({status}): {answer[:300]!r}")
    report_id = json.loads(answer)["id"]
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while (document := _api_status(port, report_id))["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise SystemExit("the example report did not finish in time")
        time.sleep(0.2)
    if document["status"] != "done":
        raise SystemExit(f"the example report ended {document['status']}: {document.get('outcome')}")
    return {"id": report_id, "page": f"/r/{report_id}", "artifacts": document["artifacts"]}


def _artifact_and_static_twin(port: int, report: dict, static_dir: Path) -> tuple[str, str]:
    """The path of the report's largest artifact, and of a static file as big as its gzip response."""
    sizes = {}
    for url in report["artifacts"].values():
        path = "/" + url.split("/", 3)[3]
        sizes[path] = len(_request(port, "GET", path)[1])
    largest = max(sizes, key=sizes.get)
    status, sent = _request(port, "GET", largest, headers={"Accept-Encoding": "gzip"})
    (static_dir / STATIC_NAME).write_bytes(sent)
    report["artifact_bytes"], report["artifact_sent_bytes"] = sizes[largest], len(sent)
    report["artifact_name"] = largest.rsplit("/", 1)[-1]
    return largest, f"/bench-static/{STATIC_NAME}"


class _Uploads(threading.Thread):
    """Uploads scripts through the API at an even pace over ``spread_s`` seconds."""

    def __init__(self, port: int, count: int, spread_s: float):
        super().__init__(name="uploads", daemon=True)
        self.port, self.count, self.spread_s = port, count, spread_s
        self.ids: list[str] = []
        self.failures: list[str] = []
        self.latencies_ms: list[float] = []

    def run(self) -> None:
        for index in range(self.count):
            time.sleep(self.spread_s / max(self.count, 1))
            body, headers = _multipart(UPLOAD_FIELDS, {"script": (f"upload_{index}.py", UPLOAD_SCRIPT.encode())})
            started = time.perf_counter()
            status, answer = _request(self.port, "POST", "/api/v1/reports", body, headers)
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status == 202:
                self.ids.append(json.loads(answer)["id"])
            else:
                self.failures.append(f"{status}: {answer[:200]!r}")

    def wait_done(self, timeout_s: float) -> dict[str, str]:
        """Final status of each upload (waiting for the queue to drain)."""
        deadline = time.monotonic() + timeout_s
        states = {}
        while True:
            states = {report_id: _api_status(self.port, report_id)["status"] for report_id in self.ids}
            if all(state not in ("queued", "running") for state in states.values()) or time.monotonic() > deadline:
                return states
            time.sleep(0.5)


def _line(label: str, stats: Stats) -> str:
    return (f"  {label:<48} {len(stats.latencies_ms):>7} req  p50 {stats.p(50):6.1f} ms"
            f"  p99 {stats.p(99):6.1f} ms  {stats.rate:7.1f} req/s  errors {stats.errors}")


def _print_results(args, report: dict, phase1: dict[str, Stats], artifact: Stats, static: Stats,
                   uploads: _Uploads, done: dict[str, str]) -> int:
    page, mixed_artifact = phase1["page"], phase1["artifact"]
    artifact_label = (f"{report['artifact_name']} ({report['artifact_sent_bytes']:,} B gzip, "
                      f"{report['artifact_bytes']:,} B plain)")
    print(f"phase 1: report page and largest artifact in turn, while {args.uploads} uploads run")
    print(_line(f"report page ({page.body_bytes:,} B)", page))
    print(_line(artifact_label, mixed_artifact))
    both = Stats(elapsed_s=page.elapsed_s)
    both.merge(page)
    both.merge(mixed_artifact)
    print(_line("page + artifact together", both))
    print("phase 2: the artifact alone")
    print(_line(artifact_label, artifact))
    print("phase 3: a static file of the artifact's response size, same gunicorn")
    print(_line(f"static file ({static.body_bytes:,} B)", static))
    finished = sum(state == "done" for state in done.values())
    print(f"uploads: {len(uploads.ids)} accepted, {finished} done, {len(uploads.failures)} refused; "
          f"submit p50 {statistics.median(uploads.latencies_ms or [float('nan')]):.1f} ms")

    share = artifact.rate / static.rate if static.rate else 0.0
    errors = page.errors + mixed_artifact.errors + artifact.errors + static.errors + len(uploads.failures)
    worst_p99 = max(page.p(99), mixed_artifact.p(99))
    targets = [
        ("no errors", errors == 0, f"{errors}"),
        (f"p99 <= {TARGET_P99_MS:g} ms (phase 1: page, artifact)", worst_p99 <= TARGET_P99_MS,
         f"{page.p(99):.1f} / {mixed_artifact.p(99):.1f} ms"),
        (f"artifact >= {TARGET_STATIC_SHARE:.0%} of the static file's req/s", share >= TARGET_STATIC_SHARE,
         f"{share:.0%} ({artifact.rate:.0f} vs {static.rate:.0f} req/s)"),
        ("every upload done", finished == args.uploads, f"{finished}/{args.uploads}"),
    ]
    missed = 0
    for label, ok, detail in targets:
        missed += not ok
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {detail}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
