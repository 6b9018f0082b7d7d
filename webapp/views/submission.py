"""Turning a submitted form (HTML or API, same fields) into a stored report.

Every rejection is a ``BadInput`` with a full sentence and a status code, raised
before anything is written, so a bad submission never leaves a row behind.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path, PurePath

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

from webapp.environments import InlineMetadataError, read_inline_metadata
from webapp.projects import PROJECT_ARTIFACT, Project, ProjectError, ProjectLimits, from_files, from_zip
from webapp.store import DONE, FAILED, IMPORT, SCRIPT, Report
from webapp.store.artifacts import add_artifacts
from webapp.store.deletion import new_delete_token
from webapp.store.lifecycle import count_queued, insert_finished, insert_queued
from webapp.views.bad_input import BadInput
from webapp.views.options import parse_options
from webapp.views.services import get_queue, get_store
from webapp.units import human_size

SCRIPT_SUFFIX = ".py"
SCRIPT_SOURCES = ("script", "code", "example", "project")
FILE_SOURCES = ("script", "project")
ZIP_SUFFIX = ".zip"
ZIP_MAGIC = b"PK\x03\x04"
PASTED_SCRIPT_NAME = "pasted_code.py"
SNIFF_BYTES = 64 * 1024  # of a big profile's start and end, read to recognise its format before queueing it
MAX_FILE_NAME_CHARS = 100  # a display name, not a limit on what users may upload


@dataclass(frozen=True)
class ScriptSubmission:
    """A script to profile: its file name, its source, and validated options."""

    script_name: str
    source: str
    options: object  # webapp.profiling.RunOptions
    project: Project | None = None  # several files; script_name is then the entry's path in it


@dataclass(frozen=True)
class Created:
    """A stored report and its delete token: the only moment the token exists in plain text."""

    report: Report
    delete_token: str


def create_report(form: MultiDict | ImmutableMultiDict, files: MultiDict) -> Created:
    """Validate the fields and store the report: queued for a script or a big import, finished for a
    small import."""
    baseline = _baseline(form.get("baseline", ""))
    profile = _given_file(files, "profile")
    if profile is not None:
        if any(_given(form, files, name) for name in SCRIPT_SOURCES):
            raise BadInput("Give either a script to profile or a profile to import, not both.")
        return _import_profile(profile, baseline)
    submission = _script_submission(form, files)
    return _enqueue_script(submission, baseline)


def _baseline(given: str) -> str | None:
    """The id of an existing report named as the baseline (an id or a link), or None if none was given."""
    if not given.strip():
        return None
    from webapp.views.comparisons import token_from_link

    token = token_from_link(given)
    with get_store().reading() as session:
        found = token and session.scalar(select(Report.id).where(Report.token == token))
    if not found:
        raise BadInput(f"There is no report “{given.strip()[:80]}” to compare with. Give the id or link "
                       "of an existing report as the baseline, or leave it out.")
    return token


def _script_submission(form, files) -> ScriptSubmission:
    # The HTML form says which of its three inputs is meant (the others may hold
    # leftovers); API clients send only the one they mean.
    chosen = form.get("source")
    candidates = (chosen,) if chosen in SCRIPT_SOURCES else SCRIPT_SOURCES
    given = [name for name in candidates if _given(form, files, name)]
    if not given:
        raise BadInput("Choose a .py file to upload, paste some code, pick an example script, "
                       "or upload a project (.zip or several files).",
                       field=chosen if chosen in SCRIPT_SOURCES else None)
    if len(given) > 1:
        raise BadInput("Give only one script: upload a file, paste code, pick an example or upload a project, "
                       "not several.")
    project = None
    if given[0] == "project":
        project = _uploaded_project(files.getlist("project"), form.get("entry", ""))
        name, source = project.entry, project.entry_source()
        _check_script_size(source.encode("utf-8"), "project")
    elif given[0] == "script":
        name, source = _uploaded_script(files["script"])
    elif given[0] == "code":
        name, source = _pasted_name(form.get("script_name", "")), form["code"]
        _check_script_size(source.encode("utf-8"), "code")
        if "\0" in source:
            raise BadInput("The pasted code contains NUL characters, so it is not Python source.", field="code")
    else:
        name, source = _example_script(form["example"])
    try:
        read_inline_metadata(source)  # a broken '# /// script' block is the user's to fix, now
    except InlineMetadataError as error:
        raise BadInput(str(error)) from None
    return ScriptSubmission(name, source, parse_options(form, current_app.config), project)


def _pasted_name(given: str) -> str:
    """The name pasted code goes by: the one given (a .py name, as "Run again" keeps it), else the default."""
    if not given.strip():
        return PASTED_SCRIPT_NAME
    name = safe_file_name(given)
    if not name.endswith(SCRIPT_SUFFIX):
        raise BadInput(f"The script name '{name}' must end in .py.")
    return name


def _given(form, files, name: str) -> bool:
    if name in FILE_SOURCES:
        return _given_file(files, name) is not None
    return bool(form.get(name, "").strip())


def _uploaded_project(uploads: list[FileStorage], entry: str) -> Project:
    """A .zip, or several files at once; refused whole (nothing stored) when unsafe or too big."""
    uploads = [upload for upload in uploads if upload.filename]
    limits = project_limits(current_app.config)
    try:
        if len(uploads) == 1:
            name, data = safe_file_name(uploads[0].filename), uploads[0].read()
            if name.lower().endswith(ZIP_SUFFIX) or data.startswith(ZIP_MAGIC):
                return from_zip(data, limits, entry, name=f"'{name}'")
            return from_files([(name, data)], limits, entry)
        if len(uploads) > limits.max_project_files:
            raise ProjectError(f"{len(uploads):,} files were uploaded; a project may have at most "
                               f"{limits.max_project_files:,}.", 413)
        return from_files([(safe_file_name(upload.filename), upload.read()) for upload in uploads], limits, entry)
    except ProjectError as error:
        raise BadInput(error.message, error.status_code, field="project") from None


def project_limits(config) -> ProjectLimits:
    return ProjectLimits(max_project_files=config["MAX_PROJECT_FILES"],
                         max_project_bytes=config["MAX_PROJECT_BYTES"], max_zip_ratio=config["MAX_ZIP_RATIO"])


def _given_file(files, name: str) -> FileStorage | None:
    upload = files.get(name)
    return upload if upload is not None and upload.filename else None


def _uploaded_script(upload: FileStorage) -> tuple[str, str]:
    name = safe_file_name(upload.filename)
    if not name.endswith(SCRIPT_SUFFIX):
        raise BadInput(
            f"'{name}' is not a Python script: only .py files can be profiled. "
            "To share an existing profile, use the import form instead.", field="script",
        )
    data = upload.read()
    _check_script_size(data, "script")
    if not data.strip():
        raise BadInput(f"The uploaded file '{name}' is empty. Choose a Python script with some code in it.",
                       field="script")
    return name, _decode_text(data, name)


def _check_script_size(data: bytes, field: str) -> None:
    limit = current_app.config["MAX_SCRIPT_BYTES"]
    if len(data) > limit:
        raise BadInput(
            f"The script is {human_size(len(data))}; scripts are limited to {human_size(limit)}. "
            "Profile a smaller script.", 413, field=field,
        )


def _decode_text(data: bytes, name: str) -> str:
    if b"\0" in data:
        raise BadInput(f"'{name}' looks like a binary file, not Python source. Upload the .py source file.",
                       field="script")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInput(
            f"'{name}' is not UTF-8 text (invalid byte at position {error.start}). "
            "Save the script as UTF-8 and upload it again.", field="script",
        ) from None


def _example_script(requested: str) -> tuple[str, str]:
    examples = list_examples()
    name = requested.strip()
    if not name.endswith(SCRIPT_SUFFIX):
        name += SCRIPT_SUFFIX
    if name not in examples:
        offered = ", ".join(sorted(path.stem for path in examples.values())) or "none are installed"
        raise BadInput(f"There is no example script called '{requested.strip()}'. The examples are: {offered}.",
                       field="example")
    return name, examples[name].read_text(encoding="utf-8")


def list_examples() -> dict[str, Path]:
    """The example scripts offered in the form, by file name."""
    directory = Path(current_app.config["EXAMPLES_DIR"])
    if not directory.is_dir():
        return {}
    return {path.name: path for path in sorted(directory.glob("*" + SCRIPT_SUFFIX))
            if path.is_file() and not path.name.startswith("_")}


def safe_file_name(filename: str | None) -> str:
    """The last path part of a client-supplied file name, limited to a harmless length."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = "".join(character for character in name if character.isprintable()).strip() or "script.py"
    return name[-MAX_FILE_NAME_CHARS:]


def _enqueue_script(submission: ScriptSubmission, baseline: str | None = None) -> Created:
    store = get_store()
    delete_token, delete_token_hash = new_delete_token()
    with store.writing() as session:
        _refuse_when_queue_full(session)
        report = insert_queued(
            session, kind=SCRIPT, script_name=submission.script_name, script_source=submission.source,
            options=dataclasses.asdict(submission.options), delete_token_hash=delete_token_hash,
            baseline_token=baseline,
        )
        if submission.project is not None:
            # Stored with the row, in the same transaction: the worker lays it out, the reader may download it.
            add_artifacts(session, report.id, {PROJECT_ARTIFACT: submission.project.to_zip()})
    # Committed before enqueueing: a worker that gets the id always finds the row.
    get_queue().enqueue(report.id)
    return Created(report, delete_token)


def _refuse_when_queue_full(session) -> None:
    max_queued = current_app.config["MAX_QUEUED"]
    if count_queued(session) >= max_queued:
        retry_after_s = current_app.config["RETRY_AFTER_S"]
        raise BadInput(
            f"Too many jobs are waiting ({max_queued} or more). Please try again in about "
            f"{retry_after_s} seconds.", 503, {"Retry-After": str(retry_after_s)},
        )


def _import_profile(upload: FileStorage, baseline: str | None = None) -> Created:
    """A small profile is imported here and now; a big one is kept in UPLOAD_DIR and queued for a worker."""
    name = safe_file_name(upload.filename)
    size = _stream_size(upload.stream)
    if size > current_app.config["MAX_INLINE_IMPORT_BYTES"]:
        return _enqueue_import(upload, name, size, baseline)
    data = upload.read()
    if not data.strip():
        raise BadInput(f"The uploaded profile '{name}' is empty. Choose a profile file, e.g. a .speedscope.json "
                       "written by py-spy.", field="profile")
    from webapp import pipeline  # imported here: the importers are only needed for imports
    from webapp.profiles import ProfileFormatError

    try:
        result = pipeline.import_profile(
            data, name, max_decompressed_bytes=current_app.config["MAX_DECOMPRESSED_BYTES"]
        )
    except ProfileFormatError as error:
        raise BadInput(str(error), field="profile") from None
    outcome = result.summary.get("outcome") or {"status": "finished", "exit_code": None,
                                                "message": "The profile was imported."}
    delete_token, delete_token_hash = new_delete_token()
    with get_store().writing() as session:
        report = insert_finished(
            session, kind=IMPORT, status=DONE if result.produced_profile else FAILED, script_name=name,
            options=None, outcome=outcome, summary=result.summary, artifacts=result.artifacts,
            delete_token_hash=delete_token_hash, baseline_token=baseline,
        )
    return Created(report, delete_token)


def _enqueue_import(upload: FileStorage, name: str, size: int, baseline: str | None = None) -> Created:
    """Recognise the format from the file's first and last bytes (nothing stored if not), then
    link the spooled upload under the new report's id and queue the report for a worker."""
    from webapp.jobs.uploads import keep_upload, upload_path
    from webapp.pipeline import recognises_profile

    stream = upload.stream
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(max(size - SNIFF_BYTES, len(head)))
    tail = stream.read(SNIFF_BYTES)
    problem = recognises_profile(head, tail, name)
    if problem:
        raise BadInput(problem, field="profile")
    store, config = get_store(), current_app.config
    delete_token, delete_token_hash = new_delete_token()
    with store.writing() as session:
        _refuse_when_queue_full(session)
        report = insert_queued(session, kind=IMPORT, script_name=name, script_source=None, options=None,
                               delete_token_hash=delete_token_hash, upload_bytes=size, baseline_token=baseline)
        # Linked before the row commits: if linking fails, no report points at a missing file.
        keep_upload(stream, upload_path(config, report.id))
    get_queue().enqueue(report.id)
    return Created(report, delete_token)


def _stream_size(stream) -> int:
    """Bytes in an uploaded file (spooled to disk or in memory), without reading it."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size
