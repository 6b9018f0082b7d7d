"""The `flamedeck` command, as a user runs it: profile a script, import a profile, bad input."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLAMEDECK = [sys.executable, "-m", "webapp.cli"]
PYSPY_FILE = ROOT / "tests/fixtures/pyspy-threads.speedscope.json"


def flamedeck(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*FLAMEDECK, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_profile_prints_the_summary_and_writes_its_files(tmp_path, speedscope_validator):
    done = flamedeck("profile", str(ROOT / "examples/server_simulation.py"), "--duration", "3",
                     "--rate", "200", "--", "--runtime", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "=== Static metrics: server_simulation.py ===" in out
    assert "Functions: " in out and "Complexity score: " in out
    assert "=== Runtime profile (py-spy, 200 Hz" in out
    assert "Top 10 hot functions (self / total):" in out
    assert "Outcome: The script finished normally" in out
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["server_simulation.collapsed.txt", "server_simulation.coverage.json",
                       "server_simulation.functions.speedscope.json", "server_simulation.lcov",
                       "server_simulation.report.json", "server_simulation.speedscope.json"]
    # Coverage, from the second run: printed in the summary, with coverage.py's files beside the profile's.
    assert "=== Coverage (coverage.py, a separate run after the profiled one) ===" in out
    assert re.search(r"Lines: \d+\.\d % {2}Branches: \d+\.\d %", out), out
    assert "SF:server_simulation.py" in (tmp_path / "server_simulation.lcov").read_text()
    speedscope = json.loads((tmp_path / "server_simulation.speedscope.json").read_text())
    speedscope_validator.validate(speedscope)
    lines_of = {}  # py-spy's detail is kept: one function sampled on several lines has several frames
    for frame in speedscope["shared"]["frames"]:
        lines_of.setdefault(frame["name"], set()).add(frame.get("line"))
    assert len(lines_of["is_prime"]) > 1
    functions = json.loads((tmp_path / "server_simulation.functions.speedscope.json").read_text())
    speedscope_validator.validate(functions)
    assert len([f for f in functions["shared"]["frames"] if f["name"] == "is_prime"]) == 1
    report = json.loads((tmp_path / "server_simulation.report.json").read_text())
    assert report["outcome"]["status"] == "finished" and report["outcome"]["exit_code"] == 0
    hot = report["hot_functions"]
    assert {"is_prime", "fibonacci", "process_data"} <= {f["name"] for f in hot}
    assert [f["self_samples"] for f in hot] == sorted((f["self_samples"] for f in hot), reverse=True)
    assert set(hot[0]) >= {"name", "file", "line", "self_samples", "total_samples", "self_percent", "total_percent"}
    assert report["static_metrics"]["functions"] >= 5
    assert report["total_samples"] > 0 and report["threads"][0]["samples"] > 0
    assert report["options"]["rate_hz"] == 200 and report["options"]["args"] == ["--runtime", "1"]
    # The first hot function of the summary is the first of report.json.
    assert f"1. {hot[0]['name']}" in out
    # The script's functions are shown at their def line; <module> at line 1.
    source = (ROOT / "examples/server_simulation.py").read_text()
    defs = {node.name: node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}
    script_rows = {f["name"]: f for f in hot if f["file"] == "server_simulation.py"}
    assert script_rows["is_prime"]["line"] == defs["is_prime"] and script_rows["is_prime"]["line_is_definition"]
    assert script_rows["<module>"]["line"] == 1 and script_rows["<module>"]["line_is_definition"]
    assert f"server_simulation.py:{defs['is_prime']} " in out


def test_import_writes_the_same_files_without_static_metrics(tmp_path, speedscope_validator):
    done = flamedeck("import", str(PYSPY_FILE), "--output-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "=== Imported profile" in done.stdout and "Static metrics" not in done.stdout
    stem = "pyspy-threads"
    files = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert files == [f"{stem}.collapsed.txt", f"{stem}.functions.speedscope.json", f"{stem}.report.json",
                     f"{stem}.speedscope.json"]
    speedscope_validator.validate(json.loads((tmp_path / "out" / f"{stem}.speedscope.json").read_text()))
    report = json.loads((tmp_path / "out" / f"{stem}.report.json").read_text())
    assert report["static_metrics"] is None and len(report["threads"]) >= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profile", "missing.py"], "missing.py is not a file"),
        (["profile", "script.py", "--duration", "2.5"], "whole number of seconds"),
        (["profile", "script.py", "--rate", "0"], "rate"),
        (["profile", "script.py", "--native", "--nonblocking"], "native"),
        (["import", "script.py"], "not in a profile format"),
    ],
)
def test_bad_input_exits_non_zero_with_a_sentence(tmp_path, args, message):
    (tmp_path / "script.py").write_text("print('hi')\n")
    done = flamedeck(*args, cwd=tmp_path)
    assert done.returncode != 0
    assert message in done.stderr
    assert not list(tmp_path.glob("*.json"))


@pytest.mark.slow
def test_a_run_without_samples_exits_non_zero_with_the_reason(tmp_path):
    # Only waiting, sampled in GIL-only mode: a sleeping thread never holds the GIL.
    (tmp_path / "quick.py").write_text("import time\ntime.sleep(1)\n")
    done = flamedeck("profile", "quick.py", "--gil", cwd=tmp_path)
    assert done.returncode == 1
    assert "The profiler took no samples" in done.stdout and "GIL-only mode" in done.stdout
    assert not list(tmp_path.glob("quick.*.json"))


def test_profile_reports_what_a_pep_723_block_needs_and_installs_nothing(tmp_path):
    script = tmp_path / "needs.py"
    script.write_text('# /// script\n# dependencies = ["orjson", "notapackage-flamedeck>=2"]\n# ///\n'
                      'import sys\nsys.exit("stopped before profiling anything")\n')
    done = flamedeck("profile", str(script), "--duration", "1", cwd=tmp_path)
    assert "The script declares (PEP 723): orjson, notapackage-flamedeck>=2." in done.stderr
    assert "Not in this environment: notapackage-flamedeck>=2." in done.stderr  # orjson is there: not listed


def test_help_lists_every_subcommand():
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("profile", "import", "convert", "compare", "serve", "worker", "db", "env"):
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, re.M), f"{command} missing from --help"
