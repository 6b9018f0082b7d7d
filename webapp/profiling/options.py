"""What a user may ask of a run (RunOptions), what the server allows (Limits), and the check between them.

py-spy is unforgiving with odd values - it panics on a fractional duration, samples
forever at rate 0 and refuses ``--native`` with ``--nonblocking`` - so every option
is checked here, with a sentence a user can act on, before py-spy is started.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

FLAG_NAMES = ("idle", "gil", "native", "subprocesses", "nonblocking")
TRUE_WORDS = frozenset({"1", "true", "on", "yes", "y"})
FALSE_WORDS = frozenset({"", "0", "false", "off", "no", "n"})
# Short names accepted from forms and the API (``-F duration=20``) besides the field names.
FIELD_ALIASES = {"duration": "duration_s", "rate": "rate_hz"}


class OptionsError(ValueError):
    """An option the user chose cannot be used; the message says which and what to do.

    ``option`` names the RunOptions field at fault (None when it is about several), so
    a form can show the sentence next to that field.
    """

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class Limits:
    """Server-side bounds of one run. Every value is a setting; the unit is in its name."""

    max_duration_s: int = 60
    max_rate_hz: int = 1000
    max_args: int = 32
    max_arg_chars: int = 1000
    max_output_bytes: int = 1_000_000  # kept per stream (stdout, stderr); the rest is dropped
    max_log_bytes: int = 64_000  # tail of py-spy's own log kept in RunResult.profiler_log
    grace_s: float = 10.0  # after SIGINT, how long py-spy may take to write its file
    attach_attempts: int = 3  # py-spy starts when it could not attach before the script started
    attach_timeout_s: float = 5.0  # start the script anyway if py-spy has not said it samples by then
    poll_interval_s: float = 0.2  # how often progress is reported and cancellation checked
    max_coverage_bytes: int = 32_000_000  # the coverage run's report file; a bigger one is not read


@dataclass
class RunOptions:
    """How to profile one run: wall-clock duration, sampling rate, py-spy modes, script arguments."""

    duration_s: int = 10
    rate_hz: int = 100
    idle: bool = False
    gil: bool = False
    native: bool = False
    subprocesses: bool = False
    nonblocking: bool = False
    args: list[str] = field(default_factory=list)
    # A second run under coverage.py after the profiled one (never the same run: it would skew the profile).
    coverage: bool = True

    @classmethod
    def from_strings(cls, values: Mapping[str, object]) -> RunOptions:
        """Build options from form/CLI strings; raise OptionsError on text that is not a valid value.

        Unknown keys (a CSRF token, the script itself) are ignored; missing keys keep
        their defaults. ``args`` may be one shell-quoted string or a list of strings.
        """
        known = {f.name for f in fields(cls)}
        given = {FIELD_ALIASES.get(key, key): value for key, value in values.items()}
        given = {key: value for key, value in given.items() if key in known and value is not None}
        parsed: dict[str, object] = {}
        if "duration_s" in given:
            parsed["duration_s"] = _whole_number(given["duration_s"], "duration", "seconds", "10", "duration_s")
        if "rate_hz" in given:
            parsed["rate_hz"] = _whole_number(given["rate_hz"], "sampling rate", "samples per second", "100", "rate_hz")
        for name in (*FLAG_NAMES, "coverage"):
            if name in given:
                parsed[name] = _flag(given[name], name)
        if "args" in given:
            parsed["args"] = _arguments(given["args"])
        return cls(**parsed)


def validate(options: RunOptions, limits: Limits) -> None:
    """Raise OptionsError if py-spy could not run these options within these limits."""
    _check_whole(options.duration_s, "duration", "seconds", "duration_s")
    if not 1 <= options.duration_s <= limits.max_duration_s:
        raise OptionsError(
            f"The duration must be between 1 and {limits.max_duration_s} seconds; "
            f"{options.duration_s} was given.", "duration_s"
        )
    _check_whole(options.rate_hz, "sampling rate", "samples per second", "rate_hz")
    if not 1 <= options.rate_hz <= limits.max_rate_hz:
        raise OptionsError(
            f"The sampling rate must be between 1 and {limits.max_rate_hz} samples per second; "
            f"{options.rate_hz} was given.", "rate_hz"
        )
    if options.native and options.nonblocking:
        raise OptionsError(
            "Native stack traces need the profiler to pause the script while it reads them, "
            "so 'native' cannot be combined with 'non-blocking'. Turn one of them off.", "nonblocking"
        )
    _check_arguments(options.args, limits)


def _check_whole(value: object, what: str, unit: str, option: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionsError(f"The {what} must be a whole number of {unit}; {value!r} was given.", option)


def _check_arguments(args: object, limits: Limits) -> None:
    if not isinstance(args, (list, tuple)) or not all(isinstance(arg, str) for arg in args):
        raise OptionsError("The script arguments must be a list of text values.", "args")
    if len(args) > limits.max_args:
        raise OptionsError(
            f"At most {limits.max_args} script arguments are allowed; {len(args)} were given.", "args"
        )
    for arg in args:
        if len(arg) > limits.max_arg_chars:
            raise OptionsError(
                f"Each script argument may be at most {limits.max_arg_chars} characters long; "
                f"one has {len(arg)}.", "args"
            )
        if "\0" in arg:
            raise OptionsError("A script argument contains a NUL character, which a command line cannot carry.", "args")


def _whole_number(raw: object, what: str, unit: str, example: str, option: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    try:
        return int(text, 10)
    except ValueError:
        raise OptionsError(
            f"The {what} must be a whole number of {unit}, for example {example}; {text!r} was given.", option
        ) from None


def _flag(raw: object, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise OptionsError(f"The '{name}' option must be on or off; {str(raw)!r} was given.", name)


def _arguments(raw: object) -> list[str]:
    if isinstance(raw, (list, tuple)):
        return [str(arg) for arg in raw]
    try:
        return shlex.split(str(raw))
    except ValueError as error:  # shlex says "No closing quotation" / "No escaped character"
        raise OptionsError(
            f"The script arguments could not be split like a shell command line ({error}); "
            "check that every quote is closed.", "args"
        ) from None
