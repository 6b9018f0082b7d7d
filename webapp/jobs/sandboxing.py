"""The sandbox this process runs jobs in, chosen once from the FLAMEDECK_SANDBOX* settings.

Choosing runs bubblewrap's self-test (a fraction of a second), so the choice is
made on first use and kept for the life of the process.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

from webapp.profiling.sandbox import SandboxLimits, SandboxUnavailable, choose_launcher

_lock = threading.Lock()
_chosen: dict[tuple, tuple[Any, str | None]] = {}


def job_sandbox(settings: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(launcher, warning) for these settings; raises SandboxUnavailable when the
    required sandbox cannot work here. ``warning`` is None when scripts are isolated."""
    from webapp.jobs.environments import script_interpreter

    limits = SandboxLimits.from_settings(settings)
    if not limits.python:
        # Scripts run with the default script environment's Python, never the app's own venv.
        limits = dataclasses.replace(limits, python=script_interpreter(settings))
    key = (settings["SANDBOX"], limits)
    with _lock:
        if key not in _chosen:
            _chosen[key] = choose_launcher(settings["SANDBOX"], limits)
        return _chosen[key]


def sandbox_warning(settings: Mapping[str, Any]) -> str | None:
    """The sentence every page and API response shows when scripts run unisolated here."""
    try:
        return job_sandbox(settings)[1]
    except SandboxUnavailable as error:
        return str(error)
