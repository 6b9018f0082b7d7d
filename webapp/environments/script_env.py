"""One script environment: a venv made from the system Python, packages installed by pip.

It is a plain venv without pip in it (``python -m venv --without-pip``: Debian's
Python may lack ``ensurepip``); packages go in with the app's own pip pointed at
it (``pip --python ENV/bin/python``), so nothing of the app is copied into it.
It must live where the sandbox user can read it (never under /root): by default
``/var/lib/flamedeck/script-env`` for a root worker, else under the user's data home.

What is installed is read from the distributions' metadata files only (never by
importing a package or starting the environment's Python), so listing a cached
environment installed from an untrusted script's wishes runs none of its code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

from webapp.profiling.bwrap import SCRIPT_ENV_MARKER

SYSTEM_PYTHON = "/usr/bin/python3"
ROOT_HOME = Path("/var/lib/flamedeck")
ENV_NAME = "script-env"
PYVENV_CFG = "pyvenv.cfg"


class ScriptEnvironmentError(RuntimeError):
    """Creating or changing an environment failed; the message says why."""


def default_environment_dir() -> Path:
    """Where the default script environment lives when ``SCRIPT_ENV_DIR`` is empty."""
    if os.geteuid() == 0:
        return ROOT_HOME / ENV_NAME
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(data_home) / "flamedeck" / ENV_NAME


def base_python() -> str:
    """The interpreter environments are made from: the system's, which the sandbox user can run."""
    if os.path.isfile(SYSTEM_PYTHON):
        return SYSTEM_PYTHON
    return getattr(sys, "_base_executable", None) or sys.executable


@dataclass(frozen=True)
class ScriptEnvironment:
    """A venv at ``path`` whose interpreter runs scripts."""

    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def exists(self) -> bool:
        return all((self.path / name).is_file() for name in (PYVENV_CFG, SCRIPT_ENV_MARKER)) and \
            os.path.exists(self.python)

    def create(self, python: str | None = None) -> None:
        """Make the venv (no pip inside), readable by everyone; nothing if it exists."""
        if self.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _run([python or base_python(), "-m", "venv", "--without-pip", str(self.path)], "create the environment")
        (self.path / SCRIPT_ENV_MARKER).write_text("A flamedeck script environment: scripts may import its packages.\n")
        _readable_by_all(self.path)

    def install(self, requirements: list[str], pip_options: list[str] | None = None,
                env: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
        """pip-install ``requirements`` into this environment (pip runs here, not in the sandbox)."""
        if not self.exists():
            raise ScriptEnvironmentError(f"There is no script environment at {self.path}; create it first.")
        command = [sys.executable, "-m", "pip", "--python", self.python, "install", "--disable-pip-version-check",
                   "--no-input", "--no-warn-script-location", "-q", *(pip_options or []), *requirements]
        _run(command, "install " + " ".join(requirements), env=env, timeout_s=timeout_s)
        _readable_by_all(self.path)

    def python_version(self) -> str:
        """The interpreter's version as pyvenv.cfg records it, e.g. "3.11.2"."""
        try:
            lines = (self.path / PYVENV_CFG).read_text().splitlines()
        except OSError:
            return ""
        values = dict(line.split("=", 1) for line in lines if "=" in line)
        values = {key.strip(): value.strip() for key, value in values.items()}
        return values.get("version_info") or values.get("version") or ""

    def site_packages(self) -> list[Path]:
        return sorted(self.path.glob("lib/python*/site-packages"))

    def packages(self) -> dict[str, str]:
        """Canonical project name -> installed version, from the metadata files."""
        found: dict[str, str] = {}
        paths = [str(path) for path in self.site_packages()]
        for dist in metadata.distributions(path=paths):
            name = dist.metadata["Name"] if dist.metadata else None
            if name:
                found.setdefault(canonicalize_name(name), dist.version)
        return dict(sorted(found.items()))

    def describe(self) -> dict:
        """The listing shown on the home page and by ``GET /api/v1/environment``."""
        if not self.exists():
            return {"available": False, "python": "", "packages": []}
        return {
            "available": True,
            "python": self.python_version(),
            "packages": [{"name": name, "version": version} for name, version in self.packages().items()],
        }

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _readable_by_all(root: Path) -> None:
    """The sandbox user reads and searches everything (a root umask may have been stricter)."""
    for directory, subdirectories, files in os.walk(root):
        for name in [*subdirectories, *files]:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                extra = 0o555 if (mode & 0o111 or os.path.isdir(path)) else 0o444
                os.chmod(path, mode | extra)
    root.chmod(root.stat().st_mode | 0o555)

def _run(command: list[str], what: str, env: dict[str, str] | None = None, timeout_s: float | None = None) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ScriptEnvironmentError(f"Could not {what}: it took longer than {timeout_s:g} s.") from None
    if done.returncode != 0:
        said = [line.removeprefix("ERROR: ").strip() for line in (done.stderr or done.stdout).splitlines()
                if line.startswith("ERROR:")] or [line for line in (done.stderr or done.stdout).splitlines()
                                                  if line.strip() and not line.startswith("WARNING:")]
        detail = " ".join(said[-2:]) if said else f"exit status {done.returncode}"
        raise ScriptEnvironmentError(f"Could not {what}: {detail}")
