"""The shapes of the JSON API's requests and answers, as marshmallow schemas.

They exist to describe the API (``/api/v1/openapi.json`` is generated from them and from the
views' docstrings); the views build their documents themselves. A test runs schemathesis
against the live app, so a field added to an answer without being described here, or described
wrongly, fails CI.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

STATUSES = ("queued", "running", "done", "failed", "cancelled")
KINDS = ("script", "import")
BOOLEAN_WORDS = ("on", "off", "true", "false", "yes", "no", "1", "0", "")


def _text(description: str, **kwargs) -> fields.String:
    return fields.String(metadata={"description": description}, **kwargs)


class ErrorSchema(Schema):
    error = _text("What went wrong and what to do, in one or two sentences.", required=True)


class LinksSchema(Schema):
    id = _text("The report's unguessable id.", required=True)
    url = fields.Url(required=True, metadata={"description": "The report page, to share."})
    api_url = fields.Url(required=True, metadata={"description": "This report's API document."})
    warning = _text("Present when this server runs scripts without isolation.")


class CreatedSchema(LinksSchema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    delete_token = _text("The owner key: send it as X-Delete-Token to cancel or delete. Shown only this once.",
                         required=True)


class OutcomeSchema(Schema):
    status = _text("How the run ended (finished, time_limit, script_error, exit_code, no_samples, …).",
                   required=True)
    message = _text("The same, as a sentence.", required=True)
    exit_code = fields.Integer(allow_none=True, metadata={"description": "The script's exit code, when known."})
    reason = fields.String(allow_none=True, metadata={"description": "A finer machine-readable cause."})
    details = _text("The end of the script's stderr or of py-spy's log, when it explains the outcome.")


class ProgressSchema(Schema):
    elapsed_s = fields.Float(required=True, metadata={"description": "Seconds the script (or an import) has run."})
    limit_s = fields.Float(required=True, metadata={"description": "The run's time limit; 0 for an import."})
    bytes_read = fields.Integer(metadata={"description": "An import run by a worker: bytes of the file read."})
    bytes_total = fields.Integer(metadata={"description": "An import run by a worker: the file's size in bytes."})


class ProfileFilesSchema(Schema):
    available = fields.Boolean(required=True)
    reason = _text("Why there is no profile (the run's outcome), when there is none.")


class ReportSchema(LinksSchema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    script_name = fields.String(required=True, allow_none=True)
    options = fields.Dict(required=True, allow_none=True, metadata={"description": "The run options used."})
    created_at = fields.Float(required=True, metadata={"description": "Unix time."})
    started_at = fields.Float(required=True, allow_none=True)
    finished_at = fields.Float(required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    phase = fields.String(allow_none=True, metadata={"description": "What a job does before its script starts, "
                                                                     "e.g. \"installing numpy 2.3 …\"."})
    queue_position = fields.Integer(required=True, allow_none=True)
    progress = fields.Nested(ProgressSchema, required=True, allow_none=True)
    outcome = fields.Nested(OutcomeSchema, required=True, allow_none=True)
    summary = fields.Dict(allow_none=True, metadata={"description": "Once ended: samples, hot functions, "
                                                                     "threads, static metrics; for an "
                                                                     "import, `import`: its format and, for "
                                                                     "cProfile, the `approximation` note; coverage."})
    artifacts = fields.Dict(keys=fields.String(), values=fields.Url(),
                            metadata={"description": "Download URL of each file, by name."})
    profile_files = fields.Nested(ProfileFilesSchema)
    speedscope_url = fields.Url(metadata={"description": "The profile opened in the bundled speedscope."})
    baseline = fields.Dict(metadata={"description": "When submitted with a baseline: its id, and once both "
                                                    "are finished the comparison (or why there is none)."})


class PackageSchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)


class EnvironmentSchema(Schema):
    available = fields.Boolean(required=True, metadata={"description": "Whether the script environment exists."})
    python = _text("Python version scripts run with (empty when unknown).", required=True)
    packages = fields.List(fields.Nested(PackageSchema), required=True)
    installs_enabled = fields.Boolean(required=True, metadata={
        "description": "Whether PEP 723 dependencies beyond these packages may be installed."})
    note = _text("Present when the operator chose the interpreter (FLAMEDECK_SANDBOX_PYTHON).")


FILE_PART = "application/octet-stream"  # any file: the server reads its content to know what it is


class SubmissionSchema(Schema):
    """The form fields of ``POST /api/v1/reports`` (multipart/form-data): one source, then options.

    A file field is a string with ``contentMediaType`` (OpenAPI 3.1's way to say "a file part"),
    not ``format: binary`` (3.0's). For ``format: binary`` schemathesis 4 draws a ``Binary`` stand-in
    object, and some of its negative-data draws check a whole body with the jsonschema_rs validator,
    which refuses that type ("Unsupported type: 'Binary'"): with schemathesis 4.32 that happened
    in the fuzzing phase once ``baseline`` and ``script_name`` were among the properties too (the
    same class of crash as schemathesis's issue 4268 and pull request 3547, in other phases).
    apispec passes ``contentMediaType`` on through ``openapi.content_keywords``."""

    script = fields.Raw(metadata={"type": "string", "contentMediaType": FILE_PART,
                                  "description": "A .py file to profile."})
    code = _text("Python source to profile.")
    example = _text("The name of an example script (see the home page).")
    project = fields.Raw(metadata={"type": "string", "contentMediaType": FILE_PART,
                                   "description": "A project: a .zip, or several files (repeat the field)."})
    entry = _text("The project's entry script (path inside the project), when it is not obvious.")
    profile = fields.Raw(metadata={"type": "string", "contentMediaType": FILE_PART,
                                   "description": "A profile file to import instead, in any supported format "
                                                  "(speedscope, collapsed stacks, perf script, .cpuprofile, Trace "
                                                  "Event, pprof, pyinstrument, Firefox Profiler, Austin, cProfile); "
                                                  "a big one is queued and imported by a worker, with progress."})
    duration = _text("Time limit in seconds (a whole number; default and maximum are server settings).")
    rate = _text("Sampling rate in Hz (a whole number).")
    args = _text("Arguments for the script, shell-quoted.")
    idle = _text("Sample idle threads too (on/off).")
    gil = _text("Sample only threads holding the GIL (on/off).")
    native = _text("Include native (C) frames (on/off).")
    subprocesses = _text("Profile child processes too (on/off).")
    nonblocking = _text("Do not pause the script while sampling (on/off).")
    coverage = _text("Measure line and branch coverage in a second run after the profiled one (on/off; default on).")
    baseline = _text("The id of an earlier report to compare with: the finished report's document then carries "
                     "the comparison under baseline.comparison.")
    script_name = _text("With code: the file name to give the pasted script (ends in .py), so that it compares "
                        "with an earlier run of the same file.")


class CompareSideSchema(Schema):
    id = _text("The report's id.", required=True)
    url = fields.Url(required=True, metadata={"description": "The report page."})
    api_url = fields.Url(required=True, metadata={"description": "The report's API document."})
    script_name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    options = fields.Dict(required=True, allow_none=True, metadata={"description": "The run options used."})
    samples = fields.Integer(required=True)
    interval_s = fields.Float(required=True, metadata={"description": "Seconds one sample stands for."})
    duration_s = fields.Float(required=True)


class FunctionChangeSchema(Schema):
    name = fields.String(required=True)
    file = fields.String(required=True)
    line = fields.Integer(required=True)
    base_self_samples = fields.Integer(required=True)
    head_self_samples = fields.Integer(required=True)
    base_total_samples = fields.Integer(required=True)
    head_total_samples = fields.Integer(required=True)
    base_self_percent = fields.Float(required=True, metadata={"description": "Share of all base samples, in %."})
    head_self_percent = fields.Float(required=True)
    base_total_percent = fields.Float(required=True)
    head_total_percent = fields.Float(required=True)
    self_change_points = fields.Float(required=True, metadata={"description": "Head minus base self share."})
    total_change_points = fields.Float(required=True)
    interval_low_points = fields.Float(required=True, metadata={"description": "95 % interval of the self change."})
    interval_high_points = fields.Float(required=True)
    significant = fields.Boolean(required=True, metadata={"description": "The interval excludes zero."})
    verdict = fields.String(required=True, validate=validate.OneOf(("regression", "improvement", "~")))
    only_in = fields.String(required=True, allow_none=True, validate=validate.OneOf(("base", "head")),
                            metadata={"description": "base: gone in head; head: new; null: in both."})


class OptionsCheckSchema(Schema):
    same = fields.Boolean(required=True)
    differences = fields.List(fields.String(), required=True,
                              metadata={"description": "One sentence per run option that differs and skews."})


class CompareDownloadsSchema(Schema):
    collapsed_diff = fields.Url(required=True, metadata={"description": "`stack base head` lines (difffolded.pl)."})
    diff_svg = fields.Url(required=True, metadata={"description": "The differential flamegraph as SVG."})


class ComparisonSchema(Schema):
    base = fields.Nested(CompareSideSchema, required=True)
    head = fields.Nested(CompareSideSchema, required=True)
    compare_url = fields.Url(required=True, metadata={"description": "The compare page, to share."})
    downloads = fields.Nested(CompareDownloadsSchema, required=True)
    confidence = fields.Float(required=True)
    threshold_points = fields.Float(required=True)
    base_samples = fields.Integer(required=True)
    head_samples = fields.Integer(required=True)
    base_interval_s = fields.Float(required=True)
    head_interval_s = fields.Float(required=True)
    regressed = fields.Boolean(required=True, metadata={
        "description": "A self share grew significantly by more than the threshold."})
    regression_count = fields.Integer(required=True)
    improvement_count = fields.Integer(required=True)
    verdict = _text("The comparison in one sentence.", required=True)
    options_check = fields.Nested(OptionsCheckSchema, required=True)
    functions = fields.List(fields.Nested(FunctionChangeSchema), required=True,
                            metadata={"description": "Significant regressions first, largest first."})
    static_metrics = fields.Dict(metadata={"description": "Two script runs: file metrics and each "
                                                          "function's complexity, side by side."})
