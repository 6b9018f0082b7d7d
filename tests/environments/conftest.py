"""Fixtures: the real bubblewrap sandbox running scripts with a real script environment."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import pytest

from webapp.config import load_settings
from webapp.jobs.environments import default_environment
from webapp.profiling import Limits
from webapp.profiling.sandbox import SandboxLimits, choose_launcher

RUN_LIMITS = Limits(max_duration_s=10, grace_s=5.0)


@pytest.fixture(scope="session")
def script_env():
    """The default script environment made by `.ci/setup --test` (it holds sortedcontainers)."""
    environment = default_environment(load_settings())
    assert environment.exists(), f"no script environment at {environment.path}: run .ci/setup --test"
    assert "sortedcontainers" in environment.packages(), "run .ci/setup --test (it installs sortedcontainers)"
    return environment


@pytest.fixture(scope="session")
def env_sandbox(script_env):
    """The bubblewrap launcher running scripts with the script environment's interpreter."""
    launcher, warning = choose_launcher("bwrap", dataclasses.replace(SandboxLimits(), python=script_env.python))
    assert warning is None
    return launcher


@pytest.fixture
def job_dir():
    """A job directory the sandbox user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="flamedeck-env-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)
