"""Which script environment a job runs in, from the settings (see webapp.environments)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from webapp.environments import ScriptEnvironment, default_environment_dir

CACHE_DIR_NAME = "script-env-cache"


def default_environment(settings: Mapping[str, Any]) -> ScriptEnvironment:
    """The operator's environment: ``SCRIPT_ENV_DIR``, or the default place for this user."""
    configured = settings.get("SCRIPT_ENV_DIR") or ""
    return ScriptEnvironment(Path(configured) if configured else default_environment_dir())


def environment_cache_dir(settings: Mapping[str, Any]) -> Path:
    """Where environments installed for PEP 723 dependencies are kept."""
    configured = settings.get("SCRIPT_ENV_CACHE_DIR") or ""
    return Path(configured) if configured else default_environment(settings).path.parent / CACHE_DIR_NAME


def script_interpreter(settings: Mapping[str, Any]) -> str:
    """The interpreter of ordinary jobs: ``SANDBOX_PYTHON`` when set, else the default
    environment's; empty when neither exists (the sandbox then picks a bare Python)."""
    if settings.get("SANDBOX_PYTHON"):
        return settings["SANDBOX_PYTHON"]
    environment = default_environment(settings)
    return environment.python if environment.exists() else ""


def describe_environment(settings: Mapping[str, Any]) -> dict:
    """What scripts can import here: Python version, packages, and whether installs are on."""
    if settings.get("SANDBOX_PYTHON"):
        document = {"available": True, "python": "", "packages": [],
                    "note": "Scripts run with the interpreter the operator chose (FLAMEDECK_SANDBOX_PYTHON)."}
    else:
        document = default_environment(settings).describe()
    document["installs_enabled"] = bool(settings.get("SCRIPT_PACKAGE_SOURCE"))
    return document
