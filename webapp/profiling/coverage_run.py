"""The coverage run's files: coverage.py for the sandbox, and the report the runner wrote.

Coverage is measured in a second run after the profiled one (see the README: coverage.py's
tracer slows CPU-bound scripts down by 70-90 %, which would skew the profile). The runner
imports coverage.py from ``lib_dir``: a copy of the coverage package alone, made in the job
directory, so the sandbox sees neither the app's virtualenv nor any other of its packages,
and any script environment (whatever its packages) gets the same coverage.py. The report
comes back through ``out_file`` (bound writable into the sandbox, like py-spy's profile)
and is read as untrusted input: the script could have written that file.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

LIB_DIR = "coverage-lib"
OUT_NAME = "coverage-out.json"
LIB_INSIDE = "/run/flamedeck/coverage-lib"
OUT_INSIDE = "/run/flamedeck/coverage-out.json"


class CoverageUnavailable(RuntimeError):
    """coverage.py is not installed next to the app; the message says what to do."""


@dataclass(frozen=True)
class CoverageFiles:
    """Where the runner finds coverage.py and writes its report, on the host."""

    lib_dir: Path
    out_file: Path


def prepare(job_dir: Path, owner: tuple[int, int] | None = None) -> CoverageFiles:
    """Copy the coverage package into the job directory and create the (empty) report file."""
    spec = find_spec("coverage")
    if spec is None or not spec.submodule_search_locations:
        raise CoverageUnavailable("coverage.py is not installed in the server's environment (pip install coverage).")
    package = Path(list(spec.submodule_search_locations)[0])
    lib_dir = Path(job_dir) / LIB_DIR
    shutil.rmtree(lib_dir, ignore_errors=True)
    shutil.copytree(package, lib_dir / "coverage", ignore=shutil.ignore_patterns("__pycache__"))
    for directory, _dirs, files in os.walk(lib_dir):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644 if not name.endswith(".so") else 0o755)
    out_file = Path(job_dir) / OUT_NAME
    out_file.unlink(missing_ok=True)
    out_file.touch()
    if owner is not None:
        os.chown(out_file, *owner)
    return CoverageFiles(lib_dir=lib_dir, out_file=out_file)


def read_report(out_file: Path, max_bytes: int) -> tuple[dict | None, str]:
    """(coverage.py's JSON report, its LCOV text); (None, why) when the run left none."""
    try:
        size = out_file.stat().st_size
        if size == 0:
            return None, "the coverage run ended before coverage.py wrote its report"
        if size > max_bytes:
            return None, f"the coverage report is larger than {max_bytes:,} bytes (FLAMEDECK_MAX_COVERAGE_BYTES)"
        envelope = json.loads(out_file.read_bytes())
    except (OSError, ValueError):
        return None, "the coverage report could not be read"
    if not isinstance(envelope, dict):
        return None, "the coverage report is not what coverage.py writes"
    if "error" in envelope:
        return None, f"coverage.py said: {str(envelope['error'])[:500]}"
    report, lcov = envelope.get("json"), envelope.get("lcov")
    if not isinstance(report, dict) or not isinstance(report.get("files"), dict) or not isinstance(lcov, str):
        return None, "the coverage report is not what coverage.py writes"
    return report, lcov
