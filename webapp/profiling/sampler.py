"""Where py-spy is and the one command line we run it with."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .options import RunOptions

PYSPY_NAME = "py-spy"


def find_pyspy() -> str | None:
    """The py-spy installed next to this Python (the venv's), else the one on PATH, else None."""
    beside = Path(sys.executable).parent / PYSPY_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(PYSPY_NAME)


def record_command(pyspy: str, options: RunOptions, profile_path: str | Path) -> list[str]:
    """``py-spy record`` arguments up to (not including) ``--`` and the command to profile.

    Speedscope is the only capture format (lossless, safely escaped). No ``--duration``:
    py-spy counts it in sampling intervals, not seconds; the wall clock is enforced by
    the caller, which stops py-spy with SIGINT.
    """
    command = [
        pyspy,
        "record",
        "--format",
        "speedscope",
        "--output",
        str(profile_path),
        "--rate",
        str(options.rate_hz),
    ]
    modes = {
        "--idle": options.idle,
        "--gil": options.gil,
        "--native": options.native,
        "--subprocesses": options.subprocesses,
        "--nonblocking": options.nonblocking,
    }
    command.extend(flag for flag, wanted in modes.items() if wanted)
    return command
