"""The repository's promises: two set-up commands, CI runs the test one."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_COMMAND = ".ci/setup --test && .venv/bin/python -m pytest"
RUN_COMMAND = ".ci/setup && .venv/bin/flamedeck serve"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"    {TEST_COMMAND}\n" in readme or f"`{TEST_COMMAND}`" in readme
    assert f"'{TEST_COMMAND}'" in ci


def test_readme_names_the_run_command():
    readme = (ROOT / "README.md").read_text()
    assert RUN_COMMAND in readme


def test_no_third_party_front_end_file_is_committed():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/static/vendor/" in ignored and "/node_modules/" in ignored
