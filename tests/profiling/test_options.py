"""Options are checked before py-spy starts, with sentences a user can act on."""

from __future__ import annotations

import subprocess

import pytest

from webapp.profiling import Limits, OptionsError, RunOptions, find_pyspy, run_script, validate

from .helpers import SCRIPTS

LIMITS = Limits(max_duration_s=60, max_rate_hz=1000, max_args=3, max_arg_chars=20)


def test_defaults_are_valid():
    options = RunOptions()
    validate(options, LIMITS)
    assert (options.duration_s, options.rate_hz, options.args) == (10, 100, [])


def test_from_strings_reads_a_web_form():
    form = {
        "duration": "20",
        "rate_hz": " 250 ",
        "idle": "on",
        "gil": "",
        "subprocesses": "true",
        "args": "--size 3 'two words'",
        "csrf_token": "ignored",
    }
    options = RunOptions.from_strings(form)
    assert options == RunOptions(
        duration_s=20, rate_hz=250, idle=True, gil=False, subprocesses=True, args=["--size", "3", "two words"]
    )


def test_from_strings_accepts_an_argument_list():
    assert RunOptions.from_strings({"args": ["a b", "c"]}).args == ["a b", "c"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"duration": "2.5"}, "The duration must be a whole number of seconds, for example 10; '2.5' was given."),
        ({"duration_s": "ten"}, "The duration must be a whole number of seconds, for example 10; 'ten' was given."),
        ({"rate": "1e3"}, "The sampling rate must be a whole number of samples per second, for example 100; "),
        ({"native": "maybe"}, "The 'native' option must be on or off; 'maybe' was given."),
        ({"args": "say 'hello"}, "The script arguments could not be split like a shell command line"),
    ],
)
def test_from_strings_turns_bad_text_into_a_clear_error(values, expected):
    with pytest.raises(OptionsError) as error:
        RunOptions.from_strings(values)
    assert str(error.value).startswith(expected)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (RunOptions(duration_s=0), "The duration must be between 1 and 60 seconds; 0 was given."),
        (RunOptions(duration_s=61), "The duration must be between 1 and 60 seconds; 61 was given."),
        (RunOptions(duration_s=2.5), "The duration must be a whole number of seconds; 2.5 was given."),
        (RunOptions(duration_s=True), "The duration must be a whole number of seconds; True was given."),
        (RunOptions(rate_hz=0), "The sampling rate must be between 1 and 1000 samples per second; 0 was given."),
        (RunOptions(rate_hz=5000), "The sampling rate must be between 1 and 1000 samples per second; 5000 was given."),
        (
            RunOptions(native=True, nonblocking=True),
            "Native stack traces need the profiler to pause the script while it reads them, so 'native' "
            "cannot be combined with 'non-blocking'. Turn one of them off.",
        ),
        (RunOptions(args=["a", "b", "c", "d"]), "At most 3 script arguments are allowed; 4 were given."),
        (RunOptions(args=["x" * 21]), "Each script argument may be at most 20 characters long; one has 21."),
        (RunOptions(args=["a\0b"]), "A script argument contains a NUL character, which a command line cannot carry."),
        (RunOptions(args="not a list"), "The script arguments must be a list of text values."),
    ],
)
def test_validate_rejects_what_py_spy_cannot_run(options, expected):
    with pytest.raises(OptionsError) as error:
        validate(options, LIMITS)
    assert str(error.value) == expected
    assert isinstance(error.value, ValueError)


def test_run_script_validates_before_starting_anything(job_dir):
    with pytest.raises(OptionsError):
        run_script(SCRIPTS / "busy.py", RunOptions(rate_hz=0), job_dir)
    assert not job_dir.exists()


# Why validation exists: what py-spy 0.4.3 itself does with such values (no process is spawned).


def test_py_spy_panics_on_a_fractional_duration():
    done = subprocess.run(
        [find_pyspy(), "record", "-d", "1.5", "-o", "/dev/null", "--", "/bin/true"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 101 and "panicked" in done.stderr


def test_py_spy_refuses_native_with_nonblocking():
    done = subprocess.run(
        [find_pyspy(), "record", "--native", "--nonblocking", "-o", "/dev/null", "--", "/bin/true"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 1 and "Can't get native stack traces with the --nonblocking option" in done.stderr
