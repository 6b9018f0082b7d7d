"""Run options from a submitted form, checked against the server's limits (settings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.config import profiling_limits
from webapp.views.bad_input import BadInput

OPTION_FIELDS = ("duration", "rate", "args", "idle", "gil", "native", "subprocesses", "nonblocking", "coverage")
# The form's hidden field that says its coverage checkbox was shown: an unticked box sends nothing.
COVERAGE_SHOWN_FIELD = "coverage_shown"
# RunOptions field -> the form field that sets it, where the names differ.
FORM_FIELDS = {"duration_s": "duration", "rate_hz": "rate"}


def parse_options(form: Mapping[str, str], config: Mapping[str, Any]):
    """RunOptions from the form's text fields; empty fields take the configured defaults."""
    from webapp.profiling import OptionsError, RunOptions, validate

    values = {name: form.get(name) for name in OPTION_FIELDS if form.get(name) is not None}
    if form.get(COVERAGE_SHOWN_FIELD) is not None and "coverage" not in values:
        values["coverage"] = "off"  # the box was shown and left unticked
    values.setdefault("coverage", "on" if config["COVERAGE_BY_DEFAULT"] else "off")
    if not str(values.get("duration", "")).strip():
        values["duration"] = config["DEFAULT_DURATION_S"]
    if not str(values.get("rate", "")).strip():
        values["rate"] = config["DEFAULT_RATE_HZ"]
    try:
        options = RunOptions.from_strings(values)
        validate(options, profiling_limits(config))
    except OptionsError as error:
        raise BadInput(str(error), field=FORM_FIELDS.get(error.option, error.option)) from None
    return options
