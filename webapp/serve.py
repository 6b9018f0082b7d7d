"""``flamedeck serve``: gunicorn and the job consumer as child processes, the production layout.

SIGINT or SIGTERM stops both cleanly: gunicorn finishes its requests (SIGTERM), the
consumer stops its jobs and hands them back to the queue (SIGINT), and anything
still running after SHUTDOWN_GRACE_S is killed. If either child dies, the other
is stopped too and ``serve`` exits non-zero, so a supervisor can restart it.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
CHILD_POLL_S = 0.2  # how often serve checks whether a child died on its own
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def main(argv: list[str]) -> int:
    """Run the web server and the workers until interrupted."""
    from webapp import create_app
    from webapp.config import load_settings

    config = load_settings()
    parser = argparse.ArgumentParser(prog="flamedeck serve", description="Run the web app and its workers.")
    parser.add_argument("--host", default=config["HOST"], help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=config["PORT"], help="port to listen on (default %(default)s)")
    parser.add_argument("--workers", type=int, default=config["WORKERS"], metavar="N",
                        help="profiling jobs run at the same time (default %(default)s)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    # Create the data directory, the secret key and the tables once (SQLite: migrated here,
    # so `serve` upgrades the embedded database itself), before the children race to.
    from webapp.worker import build_app

    app, problem = build_app(create_app)
    if problem:
        print(f"flamedeck: {problem}", file=sys.stderr)
        return 2
    app.extensions["flamedeck.store"].dispose()

    stop_requested = threading.Event()
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda _signum, _frame: stop_requested.set())

    web = _start(gunicorn_command(args.host, args.port, config), death_signal=signal.SIGTERM)
    worker = _start([sys.executable, "-m", "webapp.worker", "--workers", str(args.workers)],
                    death_signal=signal.SIGINT)
    print(f"flamedeck: serving on http://{args.host}:{args.port} with {args.workers} job worker(s); "
          "press Ctrl-C to stop.", file=sys.stderr, flush=True)

    children = {"web server": (web, signal.SIGTERM), "job worker": (worker, signal.SIGINT)}
    died = None
    while not stop_requested.wait(CHILD_POLL_S):
        died = next((name for name, (child, _) in children.items() if child.poll() is not None), None)
        if died:
            print(f"flamedeck: the {died} stopped unexpectedly (exit code {children[died][0].returncode}); "
                  "stopping.", file=sys.stderr, flush=True)
            break
    _stop_all(children, config["SHUTDOWN_GRACE_S"])
    return 1 if died else 0


def gunicorn_command(host: str, port: int, config: dict) -> list[str]:
    """The gunicorn command line of the web server, from the WEB_* settings."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
               # Threaded workers always (even with WEB_THREADS=1): their main loop keeps telling gunicorn
               # they are alive while a request runs, so WEB_TIMEOUT_S never cuts a slow 1 GiB upload.
               "--worker-class", "gthread",
               "--workers", str(config["WEB_PROCESSES"]), "--threads", str(config["WEB_THREADS"]),
               "--timeout", str(config["WEB_TIMEOUT_S"]), "--graceful-timeout", str(config["SHUTDOWN_GRACE_S"]),
               "--access-logfile", "-"]
    if _gunicorn_has_setting("control_socket_disable"):
        # Newer gunicorn opens a control socket at one fixed path per user; two
        # servers on one machine would fight over it, and serve does not use it.
        command.append("--no-control-socket")
    return command + ["webapp:create_app()"]


def _gunicorn_has_setting(name: str) -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == name for setting in KNOWN_SETTINGS)


def _start(command: list[str], death_signal: signal.Signals) -> subprocess.Popen:
    # A session of its own: a Ctrl-C in the terminal reaches serve only, which then
    # sends each child exactly the signal that stops it gracefully (a second SIGINT
    # would make the consumer abandon its graceful shutdown). The death signal
    # stops the child if serve itself is killed.
    return subprocess.Popen(command, start_new_session=True, preexec_fn=lambda: _die_with_parent(death_signal))


def _die_with_parent(death_signal: signal.Signals) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)


def _stop_all(children: dict[str, tuple[subprocess.Popen, signal.Signals]], grace_s: float) -> None:
    for child, stop_signal in children.values():
        if child.poll() is None:
            child.send_signal(stop_signal)
    deadline = time.monotonic() + grace_s
    for name, (child, _) in children.items():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            print(f"flamedeck: the {name} did not stop within {grace_s} s; killing it.", file=sys.stderr)
            child.kill()
            child.wait()


def worker_main(argv: list[str]) -> int:
    """``flamedeck worker``: only the job consumer (for the Procfile's worker process)."""
    from webapp.worker import main as run_worker

    return run_worker(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
