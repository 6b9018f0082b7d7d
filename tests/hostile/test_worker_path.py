"""Hostile scripts through the real worker path: a `flamedeck serve` with FLAMEDECK_SANDBOX=bwrap.

Submitted over the API like any user's script, all at once; each report ends with a
clear outcome, no secret of the server reaches any report, the listener on the host
sees no connection, nothing of the jobs is left running, the server keeps serving
and a normal job submitted right after succeeds.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from web.live import free_port, http_json, serve, wait_until_ended  # tests/ is on sys.path under pytest

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "scripts"
SANDBOX_SETTINGS = {
    "SANDBOX": "bwrap",
    "SANDBOX_PROCESSES": 32,
    "SANDBOX_MEMORY_BYTES": 512 * 1024 * 1024,
    "SANDBOX_CPU_S": 3,
    "SANDBOX_TMP_BYTES": 16 * 1024 * 1024,
    "SANDBOX_FILE_BYTES": 8 * 1024 * 1024,
    "MAX_OUTPUT_BYTES": 200_000,
    "GRACE_S": 5,
}


class Listener:
    """A TCP listener on the host's loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def submit(base_url: str, script: str, *args: str, duration_s: int = 4, idle: bool = False) -> str:
    status, document = http_json("POST", f"{base_url}/api/v1/reports", {
        "code": (SCRIPTS / script).read_text(), "duration": str(duration_s), "args": " ".join(args),
        "idle": "on" if idle else "",
    })
    assert status == 202, document
    return document["id"]


def everything_shown(document: dict) -> bytes:
    """The API document and every artifact a reader of the report can download."""
    shown = [repr(document).encode()]
    for url in (document.get("artifacts") or {}).values():
        with urllib.request.urlopen(url, timeout=10) as response:
            shown.append(response.read())
    return b"\n".join(shown)


def sandbox_user_processes() -> list[str]:
    found = []
    for process in psutil.process_iter(["username", "cmdline", "status"]):
        if process.info["username"] == "flamedeck" and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(" ".join(process.info["cmdline"] or [])[:100])
    return found


def test_hostile_scripts_through_the_worker_change_nothing_outside_their_reports(tmp_path):
    data_dir = tmp_path / "data"
    listener = Listener()
    try:
        with serve(data_dir, free_port(), workers=2, **SANDBOX_SETTINGS) as (_process, base_url):
            secret_key = (data_dir / "secret_key").read_bytes().strip()
            database = data_dir / "flamedeck.db"
            tokens = {
                "read_secrets": submit(base_url, "read_secrets.py", str(data_dir), str(data_dir / "secret_key"),
                                       str(database), "/work", "/root"),
                "connect_listener": submit(base_url, "connect_listener.py", str(listener.port)),
                "fork_bomb": submit(base_url, "fork_bomb.py"),
                "allocate_20gb": submit(base_url, "allocate_20gb.py"),
                "print_1gb": submit(base_url, "print_1gb.py"),
                "daemon": submit(base_url, "daemon.py"),
                "kill_parent": submit(base_url, "kill_parent.py"),
                # Idle mode: without it a script that only sleeps rightly has no samples.
                    "sleep_forever": submit(base_url, "sleep_forever.py", duration_s=2, idle=True),
            }
            documents = {name: wait_until_ended(base_url, token) for name, token in tokens.items()}

            for name, document in documents.items():
                outcome = document["outcome"]
                assert outcome and outcome["message"].endswith((".", ")")), (name, document)
                assert "warning" not in document, document  # bwrap mode: scripts are isolated
                shown = everything_shown(document)
                assert secret_key not in shown, name
                assert str(data_dir).encode() not in shown or name == "read_secrets", name
            assert b"refused" in everything_shown(documents["read_secrets"])
            assert documents["allocate_20gb"]["outcome"]["status"] == "raised"
            assert documents["sleep_forever"]["outcome"]["status"] == "time_limit"
            assert listener.accepted == 0

            deadline = time.monotonic() + 5
            while sandbox_user_processes() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert sandbox_user_processes() == []

            with urllib.request.urlopen(base_url + "/", timeout=10) as response:
                assert response.status == 200
            normal = wait_until_ended(base_url, submit(base_url, "normal.py", duration_s=5))
            assert normal["status"] == "done" and normal["outcome"]["status"] == "finished", normal
    finally:
        listener.close()
