"""Scripts import the script environment's packages under bubblewrap, never the app's own."""

from __future__ import annotations

import orjson
import pytest

from webapp import pipeline
from webapp.profiling import RunOptions

from .conftest import RUN_LIMITS

pytestmark = pytest.mark.slow

USES_PACKAGE = """\
import sys
from sortedcontainers import SortedList

def churn():
    numbers = SortedList()
    for i in range(60_000):
        numbers.add((i * 7919) % 10_007)
    return len(numbers)

for _ in range(40):
    churn()
try:
    import flask
except ImportError as error:
    print("flask:", type(error).__name__)
else:
    print("flask: imported", flask.__file__)
print("python:", sys.version_info[:2])
"""


def test_a_script_imports_the_environments_package_but_not_the_apps(env_sandbox, job_dir):
    script = job_dir / "uses_package.py"
    script.write_text(USES_PACKAGE)
    report = pipeline.profile_script(
        script, RunOptions(duration_s=8, rate_hz=200), job_dir, limits=RUN_LIMITS,
        launcher=env_sandbox, python=env_sandbox.python,
    )
    stdout = report.artifacts["stdout.txt"].decode()
    assert report.summary["outcome"]["status"] == "finished", report.artifacts["stderr.txt"].decode()
    assert report.summary["sandboxed"] is True
    assert "flask: ModuleNotFoundError" in stdout  # the app's venv is out of reach
    flame = orjson.loads(report.artifacts["flame.json"])
    origins = flame["origins"]
    by_origin = {}
    for file_index, origin in zip(flame["frames"]["file"], flame["frames"]["origin"]):
        by_origin.setdefault(origins[origin], set()).add(flame["files"][file_index])
    package_files = by_origin.get("site-packages", set())
    assert any("/site-packages/sortedcontainers/" in path for path in package_files), by_origin
    assert by_origin.get("script") == {"uses_package.py"}


def test_a_project_runs_in_its_directory_without_bubblewrap_too(script_env, job_dir):
    """FLAMEDECK_SANDBOX=rlimits: no namespaces, so py-spy's working directory is the project's."""
    import dataclasses

    from webapp.profiling.sandbox import SandboxLimits, choose_launcher
    from webapp.projects import Project

    launcher, warning = choose_launcher("rlimits", dataclasses.replace(SandboxLimits(), python=script_env.python))
    assert warning is not None and not launcher.sandboxed
    project = Project({"main.py": b"import helper\nprint(helper.first_line())\n",
                       "helper.py": b"def first_line():\n    return open('data/in.txt').readline().strip()\n",
                       "data/in.txt": b"hello from data\n"}, "main.py")
    root = job_dir / "project"
    script = project.write_to(root)
    report = pipeline.profile_script(script, RunOptions(duration_s=5), job_dir, display_name="main.py",
                                     limits=RUN_LIMITS, launcher=launcher, python=launcher.python, project_root=root)
    assert report.artifacts["stdout.txt"] == b"hello from data\n", report.artifacts["stderr.txt"]
    assert [row["file"] for row in report.summary["project_files"]] == ["helper.py", "main.py"]
    # The coverage run works without bubblewrap too (the runner is told where coverage.py is).
    coverage = report.summary["coverage"]
    assert "error" not in coverage, coverage
    assert sorted(coverage["files"]) == ["helper.py", "main.py"], coverage
