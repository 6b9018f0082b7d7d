"""Giving a script the packages its PEP 723 block names, or saying before it runs why not.

1. The default environment is used when it already has every dependency (in a version
   the requirement allows) and its Python meets ``requires-python``.
2. Else, when the operator named a package source (an index URL or a directory of
   wheels), pip resolves the dependencies for the script's Python - wheels only
   (``--only-binary=:all:``), so no package's build code ever runs - and the resolved
   set (name==version for every package) is the key of a cached environment: the first
   job installs it (outside the sandbox, never running the script), later jobs with the
   same set reuse it.
3. Else the job ends before running, with a sentence naming what is missing and what is there.

pip runs with no configuration file (``PIP_CONFIG_FILE`` = the null device), so only
the operator's setting decides where packages come from.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .inline import InlineMetadata
from .script_env import ScriptEnvironment, ScriptEnvironmentError, _run
from webapp.units import human_size

COMPLETE_MARKER = "flamedeck-complete"  # written last: an environment without it is half-installed
KEY_CHARS = 24  # of the SHA-256 of the resolved set: a directory name


class DependencyProblem(Exception):
    """The script's dependencies cannot be had; the message is the sentence the report shows."""


@dataclass(frozen=True)
class InstallPolicy:
    """The operator's settings for PEP 723 installs; ``source`` empty means installs are off."""

    source: str
    cache_dir: Path
    timeout_s: float = 300.0
    max_bytes: int = 1024**3


def environment_for(
    metadata: InlineMetadata, default: ScriptEnvironment, policy: InstallPolicy,
    on_status: Callable[[str], None] = lambda text: None,
) -> ScriptEnvironment:
    """The environment to run a script with these needs in; DependencyProblem when there is none."""
    if not metadata.declared:
        return default
    if not default.exists():
        raise DependencyProblem(
            "The script declares dependencies in a '# /// script' block, but this server has no script "
            "environment to give them; its operator creates one with 'flamedeck env install'."
        )
    python = default.python_version()
    if not metadata.python_allowed(python):
        raise DependencyProblem(
            f"The script requires Python {metadata.requires_python} (its '# /// script' block), "
            f"but scripts here run with Python {python}. Change 'requires-python', or run it elsewhere."
        )
    installed = default.packages()
    missing = unmet(metadata.dependencies, installed, python)
    if not missing:
        return default
    if not policy.source:
        have = ", ".join(f"{name} {version}" for name, version in installed.items()) or "no packages"
        raise DependencyProblem(
            f"The script needs {', '.join(str(r) for r in missing)}, which this server's script environment "
            f"does not have, and this server installs no other packages. It has: {have}. "
            "Remove the dependency from the script's '# /// script' block, or ask the operator to add it "
            "(flamedeck env install)."
        )
    deadline = time.monotonic() + policy.timeout_s
    try:
        pins = resolve(metadata.texts, default, policy, deadline)
    except ScriptEnvironmentError as error:
        raise DependencyProblem(
            f"The script needs {', '.join(str(r) for r in missing)}, which cannot be had from this server's "
            f"package source ({error}). The script environment has: "
            f"{', '.join(f'{name} {version}' for name, version in installed.items()) or 'no packages'}."
        ) from None
    return cached_environment(pins, python, default, policy, deadline, on_status)


def unmet(requirements: tuple[Requirement, ...], installed: dict[str, str], python: str) -> list[Requirement]:
    """The requirements ``installed`` (name -> version) does not satisfy, for that Python."""
    marker_env = {"python_version": ".".join(python.split(".")[:2]), "python_full_version": python}
    missing = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate(marker_env):
            continue
        version = installed.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(requirement)
    return missing


def resolve(requirements: tuple[str, ...], base: ScriptEnvironment, policy: InstallPolicy,
            deadline: float) -> dict[str, str]:
    """name -> version of every package pip would install for ``requirements`` (wheels only)."""
    report = policy.cache_dir / f".resolve-{os.getpid()}-{time.monotonic_ns()}.json"
    policy.cache_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "--python", base.python, "install", "--dry-run", "--ignore-installed",
               "--quiet", "--report", str(report), *_pip_source(policy), *requirements]
    try:
        _run(command, "find " + ", ".join(requirements), env=_pip_environment(),
             timeout_s=max(deadline - time.monotonic(), 1.0))
        chosen = json.loads(report.read_text())["install"]
    finally:
        report.unlink(missing_ok=True)
    return {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"] for item in chosen}


def cached_environment(
    pins: dict[str, str], python: str, base: ScriptEnvironment, policy: InstallPolicy, deadline: float,
    on_status: Callable[[str], None],
) -> ScriptEnvironment:
    """The environment holding exactly ``pins``: reused when cached, else installed now (one
    installer at a time per set: a second worker waits on the lock and then reuses it)."""
    identity = json.dumps({"python": python, "packages": sorted(pins.items())})
    key = hashlib.sha256(identity.encode()).hexdigest()[:KEY_CHARS]
    environment = ScriptEnvironment(policy.cache_dir / key)
    if (environment.path / COMPLETE_MARKER).is_file():
        return environment
    with open(policy.cache_dir / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (environment.path / COMPLETE_MARKER).is_file():
            return environment
        environment.remove()  # what an interrupted install left
        on_status("installing " + ", ".join(f"{name} {version}" for name, version in pins.items()) + " …")
        try:
            environment.create(_base_interpreter(base))
            environment.install(
                [f"{name}=={version}" for name, version in pins.items()],
                ["--no-deps", "--no-cache-dir", *_pip_source(policy)],
                env=_pip_environment(), timeout_s=max(deadline - time.monotonic(), 1.0),
            )
            size = _size_bytes(environment.path)
            if size > policy.max_bytes:
                raise DependencyProblem(
                    f"The script's dependencies take {human_size(size)} installed; at most {human_size(policy.max_bytes)} "
                    "are allowed here. Depend on fewer or smaller packages."
                )
        except ScriptEnvironmentError as error:
            environment.remove()
            raise DependencyProblem(f"The script's dependencies could not be installed. {error}") from None
        except BaseException:
            environment.remove()
            raise
        (environment.path / COMPLETE_MARKER).write_text(identity + "\n")
    return environment


def _base_interpreter(base: ScriptEnvironment) -> str:
    """The interpreter the default environment was made from (its pyvenv.cfg names it)."""
    try:
        lines = (base.path / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "executable" and os.path.isfile(value.strip()):
            return value.strip()
    return os.path.realpath(base.python)


def _pip_source(policy: InstallPolicy) -> list[str]:
    source = ["--only-binary=:all:", "--disable-pip-version-check", "--no-input"]
    if os.path.isdir(policy.source):
        return [*source, "--no-index", "--find-links", policy.source]
    return [*source, "--index-url", policy.source]


def _pip_environment() -> dict[str, str]:
    """This process's environment without pip settings, and with no pip configuration file."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _size_bytes(root: Path) -> int:
    return sum(path.lstat().st_size for path in root.rglob("*"))
