"""The verdict on evidence that is hard to produce on demand, using what py-spy 0.4.3 really printed.

Each log text below was captured from the real py-spy in this environment (see the
report of the profiling helper); the real-run tests cover the other outcomes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from webapp.profiling import RunEvidence, classify

# `py-spy record -d 1.5 ...` (a fractional duration): exit code 101.
PANIC_LOG = (
    "\nthread 'main' (10173) panicked at src/config.rs:398:65:\n"
    "invalid duration: ParseIntError { kind: InvalidDigit }\n"
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
)
# py-spy as root without CAP_SYS_PTRACE (capsh --drop=...) against a process it may not read.
ROOT_WITHOUT_PTRACE_LOG = (
    "Error: Failed to get process executable name. Check that the process is running.\n\n"
    "Caused by:\n    0: Permission denied (os error 13)\n    1: Permission denied (os error 13)\n"
)
# What py-spy prints as root in a container (text from the py-spy 0.4.3 binary).
DOCKER_LOG = (
    "Permission Denied\nIt looks like you are running in a docker container. Please make sure "
    "you started your container with the SYS_PTRACE capability.\n"
)
# `py-spy record -- /etc/passwd`: the "interpreter" exists but cannot be executed.
NOT_EXECUTABLE_LOG = "Error: Failed to create process '/etc/passwd': Permission denied (os error 13)\n"
WROTE_LOG = "py-spy> Wrote speedscope file to 'x.json'. Samples: {count} Errors: 0\n"

FINISHED = RunEvidence(
    returncode=0,
    log=WROTE_LOG.format(count=96),
    script_started=True,
    ending={"kind": "exited", "exit_code": 0},
    stopped_by=None,
    profiler_killed=False,
    profile_written=True,
    stderr_tail="",
    python="/usr/bin/python3",
    duration_s=10,
    idle=False,
    gil=False,
    grace_s=10.0,
    elapsed_s=1.25,
)


def test_a_normal_run_finished():
    outcome = classify(FINISHED, 96)
    assert (outcome.status, outcome.exit_code, outcome.message) == (
        "finished",
        0,
        "The script finished normally in 1.2 s.",
    )


def test_a_panicking_profiler_crashed():
    outcome = classify(replace(FINISHED, returncode=101, log=PANIC_LOG, profile_written=False), None)
    assert (outcome.status, outcome.reason) == ("error", "profiler_crashed")
    assert outcome.message.startswith("The profiler stopped unexpectedly (it panicked, exit code 101)")
    assert outcome.details == PANIC_LOG


@pytest.mark.parametrize("log", [ROOT_WITHOUT_PTRACE_LOG, DOCKER_LOG])
def test_permission_errors_mean_ptrace_is_not_allowed(log):
    evidence = replace(FINISHED, returncode=1, log=log, profile_written=False, script_started=False, ending=None)
    outcome = classify(evidence, None)
    assert (outcome.status, outcome.reason) == ("error", "ptrace_denied")
    assert "SYS_PTRACE" in outcome.message


def test_an_interpreter_that_cannot_be_executed_is_not_a_ptrace_problem():
    evidence = replace(FINISHED, returncode=1, log=NOT_EXECUTABLE_LOG, profile_written=False, ending=None)
    outcome = classify(evidence, None)
    assert (outcome.reason, outcome.message) == (
        "interpreter_not_found",
        "The Python interpreter '/etc/passwd' could not be started (Permission denied). "
        "Check the interpreter path this server is configured with.",
    )


def test_a_run_that_only_waited_until_the_time_limit_suggests_idle_mode():
    evidence = replace(FINISHED, stopped_by="time_limit", ending=None, log=WROTE_LOG.format(count=0))
    outcome = classify(evidence, 0)
    assert (outcome.status, outcome.reason) == ("no_samples", "no_samples")
    assert outcome.message == (
        "The profiler took no samples in 10 s: the script spent the whole time waiting "
        "(sleeping, reading, or waiting on a lock or a network). "
        "Turn on idle mode to sample threads that wait too."
    )


def test_a_failing_script_says_so_even_without_samples():
    ending = {"kind": "raised", "exit_code": 1, "exception_type": "KeyError", "message": "'name'"}
    outcome = classify(replace(FINISHED, ending=ending, stderr_tail="Traceback ..."), 0)
    assert (outcome.status, outcome.reason, outcome.exit_code) == ("raised", "no_samples", 1)
    assert outcome.message == "The script raised KeyError: 'name'. Nothing was sampled before it ended."
    assert outcome.details == "Traceback ..."


def test_a_run_cancelled_before_any_sample():
    evidence = replace(FINISHED, stopped_by="cancelled", profile_written=False, returncode=1)
    outcome = classify(evidence, None)
    assert (outcome.status, outcome.message) == ("cancelled", "The run was cancelled before anything was sampled.")


def test_a_profiler_that_reports_success_without_a_file():
    outcome = classify(replace(FINISHED, profile_written=False), None)
    assert (outcome.status, outcome.reason) == ("error", "profile_missing")
    assert outcome.message.startswith("The profiler ended without writing a profile file")


def test_a_message_that_already_ends_a_sentence_gets_no_second_full_stop():
    ending = {"kind": "exited", "exit_code": 2, "exit_message": "Usage: tool.py FILE."}
    assert classify(replace(FINISHED, ending=ending), 50).message == "The script exited with code 2: Usage: tool.py FILE."


def test_a_runner_that_died_before_the_script_started_is_a_failed_start_not_no_samples():
    evidence = replace(FINISHED, script_started=False, ending=None, stderr_tail="OSError: [Errno 9] Bad file descriptor")
    outcome = classify(evidence, 0)
    assert (outcome.status, outcome.reason) == ("error", "runner_failed")
    assert outcome.message.startswith("The run failed to start")
    assert outcome.details == "OSError: [Errno 9] Bad file descriptor"
