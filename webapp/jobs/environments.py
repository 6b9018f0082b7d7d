"""Which script environment a job runs in, from the settings (see webapp.environments)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def install_policy(settings: Mapping[str, Any]):
    """The operator's PEP 723 install settings (installs are off when SCRIPT_PACKAGE_SOURCE is empty)."""
    from webapp.environments.dependencies import InstallPolicy

    return InstallPolicy(source=settings.get("SCRIPT_PACKAGE_SOURCE") or "",
                         cache_dir=environment_cache_dir(settings),
                         timeout_s=float(settings.get("INSTALL_TIMEOUT_S") or 300),
                         max_bytes=int(settings.get("MAX_INSTALL_BYTES") or 1024**3))


def job_interpreter(settings: Mapping[str, Any], source: str, sandbox_python: str,
                    on_status: Callable[[str], None]) -> tuple[str, dict | None]:
    """The interpreter a script runs with, given its PEP 723 block - the sandbox's (the default
    environment's) unless the script needs packages only a cached environment has - and, for
    a script with such a block, what the report records about it.

    Raises InlineMetadataError or DependencyProblem (the sentence for the report) before
    anything runs. With SANDBOX_PYTHON set the operator chose the interpreter: the block is
    not acted on."""
    from webapp.environments import read_inline_metadata
    from webapp.environments.dependencies import environment_for

    metadata = read_inline_metadata(source)
    if not metadata.declared or settings.get("SANDBOX_PYTHON"):
        return sandbox_python, None
    default = default_environment(settings)
    chosen = environment_for(metadata, default, install_policy(settings), on_status)
    note = {"declared": list(metadata.texts), "environment": "default" if chosen == default else "cached",
            "packages": chosen.packages()}
    return (sandbox_python if chosen == default else chosen.python), note
