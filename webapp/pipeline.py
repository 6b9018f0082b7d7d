"""From a script (or an existing profile file) to a finished report: summary + artifacts.

The one place that composes the three plain libraries - ``profiling`` runs the
script, ``profiles`` imports and exports, ``analysis`` computes statistics - so
that the CLI and the background worker produce exactly the same report.
No Flask, no database.
"""
# STUB - interface only; implementation lands once profiling/profiles/analysis exist.

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class Report:
    """What a finished job stores: ``summary`` is the report.json document,
    ``artifacts`` maps an artifact name to its bytes:
    ``profile.speedscope.json``, ``profile.collapsed.txt`` (and later
    ``flame.json``, ``flamegraph.svg``), plus ``stdout.txt`` / ``stderr.txt`` tails."""

    summary: dict[str, Any]
    artifacts: dict[str, bytes] = field(default_factory=dict)
    produced_profile: bool = False  # False when the run ended without a usable profile


def profile_script(
    script: Path,
    options: "RunOptions",  # webapp.profiling.RunOptions
    job_dir: Path,
    *,
    display_name: str | None = None,
    launcher=None,
    on_progress: Callable[[float], None] | None = None,  # elapsed seconds, ~every 0.2 s
    should_stop: Callable[[], bool] | None = None,  # polled; True stops the run early (cancel)
) -> Report:
    raise NotImplementedError


def import_profile(data: bytes, filename: str) -> Report:
    """Raises webapp.profiles.ProfileFormatError with a user-facing message."""
    raise NotImplementedError
