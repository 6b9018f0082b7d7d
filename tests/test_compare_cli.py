"""`flamedeck compare` on two local profile files: the table, the exit status a CI job gates on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from web.compare_support import synthetic_profile  # tests/ is on sys.path under pytest

from webapp.profiles import get_exporter

ROOT = Path(__file__).resolve().parent.parent


def compare(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webapp.cli", "compare", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_compare_two_profile_files_and_gate_on_the_threshold(tmp_path):
    exporter = get_exporter("speedscope")
    (tmp_path / "before.speedscope.json").write_bytes(
        exporter.render(synthetic_profile({"hot": 200, "steady": 300, "gone": 500})))
    (tmp_path / "after.speedscope.json").write_bytes(
        exporter.render(synthetic_profile({"hot": 400, "steady": 300, "fresh": 300})))
    files = ("before.speedscope.json", "after.speedscope.json")
    regressed = compare(*files, cwd=tmp_path)
    assert regressed.returncode == 1, regressed.stderr
    lines = regressed.stdout.splitlines()
    assert lines[0].startswith("base: before.speedscope.json  (1000 samples)")
    assert any(line.startswith("hot ") and "+20.0" in line and line.endswith("slower") for line in lines)
    assert any(line.startswith("steady ") and line.endswith("~") for line in lines)
    document = json.loads(compare(*files, "--format", "json", cwd=tmp_path).stdout)
    assert document["regressed"] and document["functions"][0]["verdict"] == "regression"
    passed = compare(*files, "--threshold", "35", cwd=tmp_path)
    assert passed.returncode == 0 and "by more than 35 points" in passed.stdout
    (tmp_path / "notes.txt").write_text("not a profile")
    broken = compare("before.speedscope.json", "notes.txt", cwd=tmp_path)
    assert broken.returncode == 2 and "not in a profile format flamedeck can read" in broken.stderr
    mixed = compare("before.speedscope.json", "abcdefghijkl", cwd=tmp_path)
    assert mixed.returncode == 2 and "not one of each" in mixed.stderr
