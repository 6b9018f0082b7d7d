"""How a run ended, in words a user understands.

py-spy exits 0 whatever the script did, so the verdict combines four witnesses:
py-spy's exit code and log, the runner's status file, whether we stopped the run
(time limit or cancel), and whether the profile holds samples. ``classify`` is pure
so every branch is testable on recorded evidence.

Log lines matched below are what py-spy 0.4.3 prints (seen by running it):
* interpreter missing:  ``Error: Failed to create process '/no/python': No such file or directory (os error 2)``
* target gone before attach:  ``Error: Failed to get process executable name. Check that the process is running.``
  (then ``Caused by: No such file or directory``); ``Failed to find python version`` when the
  target is not (yet) a Python py-spy can read - py-spy retries for about 0.4 s, and a slow
  interpreter start-up on a loaded machine can outlast that (see ``attach_failed``)
* the same with ``--subprocesses`` (always inside the bwrap sandbox), after about 1 s of looking:
  ``Error: No python processes found in process 31762 or any of its subprocesses``
* ptrace refused, non-root:  ``Permission Denied: Try running again with elevated permissions ...``
* ptrace refused, root without CAP_SYS_PTRACE:  ``Failed to get process executable name ...``
  ``Caused by: Permission denied (os error 13)``; in Docker py-spy adds a SYS_PTRACE hint
* panic (e.g. fractional ``-d``): exit code 101 and ``thread 'main' ... panicked at ...``
* success:  ``Wrote speedscope file to '...'. Samples: 96 Errors: 0``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

FINISHED, EXITED, RAISED = "finished", "exited", "raised"
TIME_LIMIT, NO_SAMPLES, CANCELLED, ERROR = "time_limit", "no_samples", "cancelled", "error"
STATUSES = (FINISHED, EXITED, RAISED, TIME_LIMIT, NO_SAMPLES, CANCELLED, ERROR)

_CREATE_FAILED = re.compile(r"Failed to create process '(?P<path>.*)': (?P<why>[^\n(]*)")
_PERMISSION = re.compile(r"permission denied|operation not permitted|SYS_PTRACE", re.IGNORECASE)
_NOT_ATTACHED = re.compile(
    r"Failed to get process executable name|Failed to find python version|No such process"
    r"|No python processes found"  # with --subprocesses (always, inside the bwrap sandbox)
)
_SAMPLES = re.compile(r"Samples: (\d+)")
# Below this share of the moments py-spy looked at, a run is said to have mostly waited.
MOSTLY_WAITING_PERCENT = 10.0


@dataclass(frozen=True)
class Outcome:
    """The verdict on one run: a status from STATUSES, the script's exit code if known,
    one user-facing message, a finer machine code (``reason``) and optional detail text
    (the end of the script's stderr or of py-spy's log)."""

    status: str
    exit_code: int | None
    message: str
    reason: str | None = None
    details: str = ""


@dataclass(frozen=True)
class RunEvidence:
    """Everything observed about a run that the verdict depends on."""

    returncode: int  # py-spy's; negative when a signal ended it
    log: str  # end of py-spy's stdout+stderr
    script_started: bool  # the runner reported starting the script
    ending: dict | None  # the runner's final status record, None if it sent none
    stopped_by: str | None  # TIME_LIMIT or CANCELLED when we sent SIGINT, else None
    profiler_killed: bool  # py-spy ignored SIGINT for grace_s and was killed
    profile_written: bool  # the profile file exists and is not empty
    stderr_tail: str
    python: str
    duration_s: int
    idle: bool
    gil: bool
    grace_s: float
    elapsed_s: float
    rate_hz: int = 100


def samples_in_log(log: str) -> int | None:
    """The sample count py-spy printed when it wrote its file, if it did."""
    counts = _SAMPLES.findall(log)
    return int(counts[-1]) if counts else None


def classify(evidence: RunEvidence, sample_count: int | None) -> Outcome:
    """Say how the run ended; ``sample_count`` None means "not known", 0 means "none taken"."""
    if evidence.stopped_by == CANCELLED:
        return _cancelled(evidence, sample_count)
    failure = _profiler_failure(evidence)
    if failure is not None:
        return failure
    if not evidence.script_started and evidence.stopped_by is None:
        return _error(
            "runner_failed",
            "The run failed to start: the program that starts the script ended before the script "
            "began, so nothing of the script ran. Try again; if it keeps happening, the server's "
            "operator should check the worker's log (the end of its error output is below).",
            replace(evidence, log=evidence.stderr_tail or evidence.log),
        )
    if sample_count == 0:
        return _nothing_sampled(evidence, "no_samples")
    if evidence.stopped_by == TIME_LIMIT:
        outcome = Outcome(
            TIME_LIMIT,
            None,
            f"The script was still running when the {evidence.duration_s} s time limit was reached, "
            f"so it was stopped and the profile of those {evidence.duration_s} s was kept. "
            "Choose a longer duration to profile more of it.",
            reason=TIME_LIMIT,
        )
    else:
        outcome = _script_ending(evidence)
    return _noting_waits(outcome, evidence, sample_count)


def _noting_waits(outcome: Outcome, ev: RunEvidence, sample_count: int | None) -> Outcome:
    """Say so when py-spy found the script running at only a few of the moments it looked.

    A script that only waits rarely gets no sample at all: py-spy (on its own as well)
    now and then takes a thread woken for a moment, or restarting its wait after being
    paused, for a running one - 0 to 12 samples in 2 s of sleep at 100 Hz, measured.
    Those samples are real py-spy output and stay; the sentence keeps them from passing
    for where the time went.
    """
    looked = ev.elapsed_s * ev.rate_hz
    if sample_count is None or ev.idle or looked <= 0:
        return outcome
    share = 100 * sample_count / looked
    if share >= MOSTLY_WAITING_PERCENT:
        return outcome
    note = (
        f" py-spy found it running at only {sample_count} of about {looked:.0f} sampling moments "
        f"({share:.0f} %): it spent the rest waiting. {_waiting_hint(ev)}"
    ).rstrip()
    return replace(outcome, message=outcome.message + note)


def corrupted(preliminary: Outcome, log: str) -> Outcome:
    """The verdict when the profile file exists but cannot be parsed."""
    return Outcome(
        ERROR,
        preliminary.exit_code,
        "The profiler's output file could not be read (it is damaged or incomplete), so no report "
        "can be made from it. Run the script again; if this keeps happening, report it with the log below.",
        reason="profile_corrupted",
        details=log,
    )


def _cancelled(evidence: RunEvidence, sample_count: int | None) -> Outcome:
    if evidence.profile_written and sample_count != 0:
        message = "The run was cancelled; the partial profile was kept."
    else:
        message = "The run was cancelled before anything was sampled."
    return Outcome(CANCELLED, None, message, reason=CANCELLED)


def _profiler_failure(ev: RunEvidence) -> Outcome | None:
    """An Outcome if py-spy failed to produce a profile, else None."""
    if ev.profiler_killed:
        return _error(
            "profiler_timeout",
            f"The profiler did not finish writing its file within {ev.grace_s:g} s of being asked "
            "to stop, so it was killed and no profile was kept. Try a shorter duration or a lower sampling rate.",
            ev,
        )
    if ev.returncode == 0:
        if ev.profile_written:
            return None
        return _error(
            "profile_missing",
            "The profiler ended without writing a profile file, so there is nothing to show. "
            "Its log is below; if this keeps happening, report it.",
            ev,
        )
    created = _CREATE_FAILED.search(ev.log)
    if created:
        return _error(
            "interpreter_not_found",
            f"The Python interpreter '{created['path']}' could not be started "
            f"({created['why'].strip()}). Check the interpreter path this server is configured with.",
            ev,
        )
    if _PERMISSION.search(ev.log):
        return _error(
            "ptrace_denied",
            "The profiler was not allowed to read the script's memory (ptrace permission denied), "
            "so nothing could be sampled. Let it trace its own child processes: in Docker start the "
            "container with --cap-add SYS_PTRACE, in Kubernetes add the SYS_PTRACE capability, and "
            "where the Yama security module is active set the sysctl kernel.yama.ptrace_scope to 1 or 0.",
            ev,
        )
    if _NOT_ATTACHED.search(ev.log) and ev.script_started:
        return _nothing_sampled(ev, "not_attached")
    if _NOT_ATTACHED.search(ev.log):
        return _error(
            "attach_failed",
            "The profiler could not attach to the Python interpreter while it was starting, so the "
            "script was not run. The server may be overloaded; please try again.",
            ev,
        )
    return _error(
        "profiler_crashed",
        f"The profiler stopped unexpectedly ({_how_it_ended(ev.returncode)}), so no profile was written. "
        "Its log is below; if this keeps happening, report it with that log.",
        ev,
    )


def _nothing_sampled(ev: RunEvidence, reason: str) -> Outcome:
    """No samples: report the script's own failure first, else explain why nothing was seen."""
    ending = _script_ending(ev)
    if ending.status in (RAISED, EXITED) and ending.exit_code not in (0, None):
        return replace(ending, message=f"{ending.message} Nothing was sampled before it ended.", reason=reason)
    if reason == "not_attached":
        message = (
            "The script ended before the profiler could attach to it, so nothing was sampled. "
            "Give it more work, for example a loop that runs for at least a second."
        )
    elif ev.stopped_by == TIME_LIMIT:
        message = (
            f"The profiler took no samples in {ev.duration_s} s: the script spent the whole time "
            f"waiting (sleeping, reading, or waiting on a lock or a network). {_waiting_hint(ev)}"
        ).rstrip()
    else:
        message = (
            "The profiler took no samples: the script ended too quickly, or it only waited "
            f"(sleeping, reading, or waiting on a lock). Make it run longer. {_waiting_hint(ev)}"
        ).rstrip()
    return Outcome(NO_SAMPLES, ending.exit_code, message, reason=reason, details=ev.stderr_tail)


def _waiting_hint(ev: RunEvidence) -> str:
    """How to see threads that wait, given the modes of this run."""
    if ev.gil:
        return "Turn off GIL-only mode to sample threads that wait too."
    if not ev.idle:
        return "Turn on idle mode to sample threads that wait too."
    return ""


def _script_ending(ev: RunEvidence) -> Outcome:
    """What the runner's status file says about the script itself."""
    ending = ev.ending
    if ending is None:
        return Outcome(
            EXITED,
            None,
            "The script stopped without reporting how it ended: it called os._exit() or was killed "
            "by a signal (for example a crash in native code, or running out of memory).",
            reason="unreported_exit",
            details=ev.stderr_tail,
        )
    code = ending.get("exit_code")
    if ending.get("kind") == "raised":
        text = ending.get("message") or ""
        said = f"The script raised {ending.get('exception_type')}" + (f": {text}" if text else "")
        return Outcome(RAISED, code, _sentence(said), details=ev.stderr_tail)
    if code == 0:
        return Outcome(FINISHED, 0, f"The script finished normally in {ev.elapsed_s:.1f} s.")
    note = ending.get("exit_message")
    message = f"The script exited with code {code}" + (f": {note}" if note else "")
    return Outcome(EXITED, code, _sentence(message), details=ev.stderr_tail)


def _sentence(text: str) -> str:
    """End a message built around the script's own words with a full stop."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _error(reason: str, message: str, ev: RunEvidence) -> Outcome:
    exit_code = ev.ending.get("exit_code") if ev.ending else None
    return Outcome(ERROR, exit_code, message, reason=reason, details=ev.log)


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        return f"killed by signal {-returncode}"
    if returncode == 101:
        return "it panicked, exit code 101"
    return f"exit code {returncode}"
