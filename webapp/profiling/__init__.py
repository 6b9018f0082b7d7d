"""Running a script under py-spy and saying how it ended. Stdlib only; no Flask, no database.

Typical use (the worker and the CLI)::

    options = RunOptions.from_strings(form)          # OptionsError on bad text
    validate(options, limits)                        # OptionsError on bad values
    result = run_script(job_dir / "script.py", options, job_dir, limits=limits,
                        on_progress=..., should_stop=...)
    if result.profile_path:                          # parse it with webapp.profiles, trimming
        outcome = finalize_outcome(result, count)    # each stack with runner_frame_count()
"""

from .capture import tail
from .launch import DirectLauncher, Launcher, LaunchSpec
from .options import Limits, OptionsError, RunOptions, validate
from .outcome import STATUSES, Outcome, RunEvidence, classify
from .processes import RUN_TOKEN_ENV
from .recording import RunResult, finalize_outcome, run_script
from .runner import RUNNER_PATH
from .sampler import find_pyspy
from .stacks import runner_frame_count

__all__ = [
    "RUNNER_PATH",
    "RUN_TOKEN_ENV",
    "STATUSES",
    "DirectLauncher",
    "LaunchSpec",
    "Launcher",
    "Limits",
    "OptionsError",
    "Outcome",
    "RunEvidence",
    "RunOptions",
    "RunResult",
    "classify",
    "finalize_outcome",
    "find_pyspy",
    "run_script",
    "runner_frame_count",
    "tail",
    "validate",
]
