"""The roads a script takes to a report, behind one interface, so one suite checks them all.

* ``cli``: the pipeline ``flamedeck profile`` runs - py-spy and the script as plain
  children of this process, no sandbox, as on a developer's machine;
* ``bwrap`` and ``rlimits``: a real ``flamedeck serve`` in that sandbox mode, the
  script submitted over the JSON API and the speedscope file downloaded as a user would.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from webapp.pipeline import profile_script
from webapp.profiling import RunOptions
from web.live import free_port, http_json, serve, wait_until_ended  # tests/ is on sys.path under pytest

FORM_NAMES = {"duration_s": "duration", "rate_hz": "rate"}


@dataclass
class Profiled:
    """What a user gets back: the report's outcome and summary, and the speedscope download."""

    outcome: dict
    summary: dict
    speedscope: bytes | None
    stdout: str = ""

    @property
    def self_samples(self) -> dict[str, int]:
        return {row["name"]: row["self_samples"] for row in self.summary["hot_functions"]}

    @property
    def total_samples(self) -> dict[str, int]:
        return {row["name"]: row["total_samples"] for row in self.summary["hot_functions"]}

    def self_percent(self, name: str) -> float:
        whole = self.summary["total_samples"]
        return 100 * self.self_samples.get(name, 0) / whole if whole else 0.0

    def total_percent(self, name: str) -> float:
        whole = self.summary["total_samples"]
        return 100 * self.total_samples.get(name, 0) / whole if whole else 0.0


class CliPath:
    name = "cli"

    def __init__(self, root: Path):
        self.root = root

    def profile(self, source: str, **options) -> Profiled:
        job = Path(tempfile.mkdtemp(dir=self.root))
        script = job / "script.py"
        script.write_text(source)
        report = profile_script(script, RunOptions(**without_coverage(options)), job / "job")
        artifacts = report.artifacts
        return Profiled(report.summary["outcome"], report.summary, artifacts.get("profile.speedscope.json"),
                        artifacts.get("stdout.txt", b"").decode())


def without_coverage(options: dict) -> dict:
    """These tests are about the profiled run: no second (coverage) run unless a test asks for one."""
    return {"coverage": False} | options


class WebPath:
    """A running ``flamedeck serve`` with ``FLAMEDECK_SANDBOX=mode``."""

    def __init__(self, mode: str, root: Path):
        self.name = mode
        self._stack = ExitStack()
        settings = {"SANDBOX": mode, "MAX_DURATION_S": 60, "MAX_RATE_HZ": 1000}
        _, self.base_url = self._stack.enter_context(
            serve(root / f"data-{mode}", free_port(), workers=2, log_path=root / f"serve-{mode}.log", **settings)
        )

    def close(self) -> None:
        self._stack.close()

    def profile(self, source: str, **options) -> Profiled:
        fields = {"code": source}
        for key, value in dataclasses.asdict(RunOptions(**without_coverage(options))).items():
            name = FORM_NAMES.get(key, key)
            if key == "args":
                fields[name] = " ".join(value)
            elif isinstance(value, bool):
                fields[name] = "on" if value else ""
            else:
                fields[name] = str(value)
        status, document = http_json("POST", f"{self.base_url}/api/v1/reports", fields)
        assert status == 202, document
        document = wait_until_ended(self.base_url, document["id"])
        assert "warning" not in document or self.name == "rlimits", document
        artifacts = document.get("artifacts") or {}
        speedscope, stdout = (_download(artifacts.get(name)) for name in ("profile.speedscope.json", "stdout.txt"))
        return Profiled(document["outcome"], document.get("summary") or {}, speedscope, (stdout or b"").decode())


def _download(url: str | None) -> bytes | None:
    if not url:
        return None
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def open_path(name: str) -> tuple[CliPath | WebPath, Path]:
    """The path called ``name`` and the scratch directory to remove after it (see ``close_path``)."""
    root = Path(tempfile.mkdtemp(prefix=f"flamedeck-fidelity-{name}-"))
    root.chmod(0o711)  # the sandbox user must reach the job directories below it
    return (CliPath(root) if name == "cli" else WebPath(name, root)), root


def close_path(path: CliPath | WebPath, root: Path) -> None:
    if isinstance(path, WebPath):
        path.close()
    shutil.rmtree(root, ignore_errors=True)
