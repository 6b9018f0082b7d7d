"""From a script (or an existing profile file) to a finished report: summary + artifacts.

The one place that composes the three plain libraries - ``profiling`` runs the
script, ``profiles`` imports and exports, ``analysis`` computes statistics - so
that the CLI and the background worker produce exactly the same report.
No Flask, no database.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from webapp.analysis.coverage_summary import summarize_coverage
from webapp.analysis import (
    attach_definition_lines, complexity_with_runtime, design_effects, project_complexity, project_metrics,
    static_metrics, summarize,
)
from webapp.config import BY_NAME as SETTINGS_BY_NAME
from webapp.profiles import Frame, Profile, ProfileFormatError, get_exporter, load_profile
from webapp.profiles.importers import IMPORTERS, find_importer, read_profile
from webapp.profiling import Limits, RunOptions, finalize_outcome, run_script, runner_frame_count, tail
from webapp.profiling import coverage_run

# Artifact name -> (exporter name, options). Every report with samples offers these
# downloads; flame.json feeds the page's flamegraph, function-tree.bin (its function tree in
# binary columns) the compare page's. The speedscope file keeps py-spy's line-level frames;
# the "functions" one has one frame per function, at its definition line.
PROFILE_ARTIFACTS: dict[str, tuple[str, dict[str, Any]]] = {
    "profile.speedscope.json": ("speedscope", {"line_level": True}),
    "profile.functions.speedscope.json": ("speedscope", {"line_level": False}),
    "profile.collapsed.txt": ("collapsed", {}),
    "flame.json": ("flame-tree", {}),
    "function-tree.bin": ("function-tree", {}),
    "flamegraph.svg": ("svg", {}),
}
# The order the downloads are started in: the longest first (measured on benchmarks/ingest.py), so
# that the threads finish together; collapsed also builds the function level everything else needs.
WRITE_ORDER = ("profile.collapsed.txt", "profile.functions.speedscope.json", "profile.speedscope.json",
               "flamegraph.svg", "flame.json", "function-tree.bin")
# Exporters that colour frames by origin need to know which file is the user's script.
KNOWS_SCRIPT_FILE = {"flame-tree", "svg"}
DEFAULT_EXPORT_THREADS = SETTINGS_BY_NAME["EXPORT_THREADS"].default  # a worker passes its setting
IMPORT_READ_CHUNK_BYTES = 16 * 1024 * 1024  # an uploaded profile is read this much at a time (progress)
OUTPUT_TAIL_BYTES = 64_000  # how much of the script's stdout/stderr a report keeps
COVERAGE_RUN_DIR = "coverage-run"  # the coverage run's files, apart from the profiled run's
COVERAGE_MEASURED = ("a separate run under coverage.py (branch coverage) after the profiled one, "
                     "with the same sandbox, options and time limit, so the profile is not slowed by it")
# Outcomes after which a coverage run is not attempted: the script never ran, or the user stopped it.
NO_COVERAGE_AFTER = {"cancelled", "error"}
# coverage.py writes its report when the script ends; a run stopped at the time limit is killed first.
COVERAGE_AFTER_TIME_LIMIT = ("Coverage was not measured: the script ran until the time limit, and coverage.py "
                             "reports only when a script ends. Give it more time, or less work, to see its coverage.")
COVERAGE_RUN_TIME_LIMIT = ("No coverage was recorded: the coverage run reached the time limit (coverage.py slows "
                           "a busy script down several times over). Give it more time, or less work.")


# How a caller keeps each profile download: called with ``write(file)``, which writes the
# download into a binary file object; returns what the report keeps. The default keeps plain
# bytes; a worker compresses as the file is written, so that a big import's downloads (about
# 1 GB for 5M samples) never exist uncompressed all at once.
ArtifactSink = Callable[[Callable[[BinaryIO], None]], Any]


def plain_artifact(write: Callable[[BinaryIO], None]) -> bytes:
    out = io.BytesIO()
    write(out)
    return out.getvalue()


@dataclass
class Report:
    """What a finished job stores.

    ``summary`` is the report.json document; ``artifacts`` maps an artifact name
    (``profile.speedscope.json``, ``profile.collapsed.txt``, ``stdout.txt``, ...)
    to its bytes - or, for the profile downloads, to what the caller's ``artifact_sink``
    made of them (a worker's compresses each as it is written; see ``ArtifactSink``)."""

    summary: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)
    produced_profile: bool = False  # False when the run ended without a usable profile


def profile_script(
    script: Path,
    options: RunOptions,
    job_dir: Path,
    *,
    display_name: str | None = None,
    limits: Limits | None = None,
    launcher=None,
    python: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    project_root: Path | None = None,
    artifact_sink: ArtifactSink = plain_artifact,
    export_threads: int = DEFAULT_EXPORT_THREADS,
) -> Report:
    """Run ``script`` under py-spy in ``job_dir`` and build its report.

    With ``project_root`` (a project's files, laid out read-only; ``script`` is inside it)
    the script starts in that directory, frames name files by their project path, and the
    static metrics cover every .py file of the project; ``display_name`` is the entry's path.

    ``launcher`` and ``python`` come from the sandbox (see ``webapp.jobs.sandboxing``);
    without them the script runs as a plain child of py-spy, as on a developer's machine.
    Raises ``OptionsError`` before starting when the options are invalid; every
    other way a run can end is described by the summary's ``outcome``."""
    name = display_name or script.name
    source = script.read_bytes()
    result = run_script(
        script, options, job_dir, limits=limits or Limits(), launcher=launcher,
        python=python or sys.executable, on_progress=on_progress, should_stop=should_stop, workdir=project_root,
    )
    profile, sample_count = _read_run_profile(result)
    outcome = finalize_outcome(result, sample_count)
    sources = _project_sources(project_root) if project_root else {name: source.decode("utf-8", errors="replace")}
    if profile is not None:
        profile = _as_shared(profile, result.script_path, name, keep_processes=options.subprocesses,
                             project_root=project_root)
        for path, text in sources.items():
            attach_definition_lines(profile, text, path)
    summary: dict[str, Any] = {"script_name": name, "kind": "run"}
    if project_root:
        summary["project_files"], summary["static_metrics"] = project_metrics(sources)
    else:
        summary["static_metrics"] = static_metrics(sources[name], name)
    summary["options"] = dataclasses.asdict(options)
    summary["sandboxed"] = result.sandboxed
    summary["elapsed_s"] = round(result.elapsed_s, 3)
    artifacts = {
        artifact: without_scratch_paths(tail(path, OUTPUT_TAIL_BYTES), job_dir, result.script_path, name,
                                        project_root).encode()
        for artifact, path in (("stdout.txt", result.stdout_path), ("stderr.txt", result.stderr_path))
    }
    produced = profile is not None and profile.sample_count > 0
    if produced:
        # Every file of a project is the user's code ("script" in the flamegraph's colours).
        script_file = tuple(sources) if project_root else name
        with _writing_downloads(profile, artifact_sink, script_file, export_threads) as downloads:
            summary.update(summarize(profile))
            summary[design_effects.SUMMARY_KEY] = design_effects.summary_entry(profile, summary["hot_functions"])
            if project_root:
                summary["function_complexity"] = project_complexity(summary["project_files"],
                                                                    summary["hot_functions"])
            else:
                summary["function_complexity"] = complexity_with_runtime(
                    summary["static_metrics"], summary["hot_functions"], name
                )
            artifacts.update(downloads())
    else:
        summary.update(_empty_runtime())
    if options.coverage and outcome.status == "time_limit":
        summary["coverage"] = {"measured": COVERAGE_MEASURED, "error": COVERAGE_AFTER_TIME_LIMIT}
    elif options.coverage and outcome.status not in NO_COVERAGE_AFTER and not (should_stop and should_stop()):
        coverage, files = _coverage(script, options, job_dir / COVERAGE_RUN_DIR, limits or Limits(), launcher,
                                    python or sys.executable, should_stop, project_root, result.script_path, name,
                                    sources)
        summary["coverage"] = coverage
        artifacts.update(files)
    message = without_scratch_paths(outcome.message, job_dir, result.script_path, name, project_root)
    summary["outcome"] = {"status": outcome.status, "exit_code": outcome.exit_code, "message": message}
    return Report(summary=summary, artifacts=artifacts, produced_profile=produced)


def _coverage(script: Path, options: RunOptions, run_dir: Path, limits: Limits, launcher, python: str,
              should_stop, project_root: Path | None, script_path: str, name: str,
              sources: dict[str, str]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The coverage run: (the summary's "coverage" entry, the coverage.json and coverage.lcov downloads).

    Runs the script once more, as the profiled run did, with coverage.py tracing it; its profile
    and output are not used (the profiled run's are the report's)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        files = coverage_run.prepare(run_dir)
    except coverage_run.CoverageUnavailable as error:
        return {"measured": COVERAGE_MEASURED, "error": str(error)}, {}
    run = run_script(script, options, run_dir, limits=limits, launcher=launcher, python=python,
                     should_stop=should_stop, workdir=project_root, coverage=files)
    report, lcov = coverage_run.read_report(files.out_file, limits.max_coverage_bytes)
    if report is None and run.outcome.status == "time_limit":
        return {"measured": COVERAGE_MEASURED, "error": COVERAGE_RUN_TIME_LIMIT}, {}
    if report is None:
        return {"measured": COVERAGE_MEASURED, "error": f"No coverage was recorded: {lcov}."}, {}
    prefix = f"{project_root}/" if project_root else None

    def file_name(raw: str) -> str | None:
        # coverage.py names a file relative to the run's working directory when it lies below it.
        if not project_root:
            return name if raw == script_path or script_path.endswith("/" + raw.removeprefix("./")) else None
        if prefix and raw.startswith(prefix):
            raw = raw[len(prefix):]
        return raw if project_root and raw in sources else None

    coverage = {"measured": COVERAGE_MEASURED, "elapsed_s": round(run.elapsed_s, 3),
                **summarize_coverage(report, file_name)}
    lcov = without_scratch_paths(lcov, run_dir, script_path, name, project_root)
    shared_json = {**report, "files": {file_name(k): v for k, v in report["files"].items() if file_name(k)}}
    return coverage, {"coverage.json": json.dumps(shared_json).encode(), "coverage.lcov": lcov.encode()}


def import_profile(data: bytes, filename: str, on_step: Callable[[str], None] | None = None, *,
                   max_decompressed_bytes: int | None = None, artifact_sink: ArtifactSink = plain_artifact,
                   export_threads: int = DEFAULT_EXPORT_THREADS) -> Report:
    """Build a report from an existing profile file of any supported format;
    ProfileFormatError when it is not one. The summary's ``import`` says which
    format it was and, for formats without samples (cProfile), that the stacks
    are an approximation - the outcome message says so too, on the report page.

    ``on_step`` is told what happens next ("Analysing …"), for a worker's status box."""
    step = on_step or (lambda _text: None)
    step("Parsing the profile")
    limits = {} if max_decompressed_bytes is None else {"max_decompressed_bytes": max_decompressed_bytes}
    imported = read_profile(data, filename, **limits)
    del data  # the file (up to MAX_UPLOAD_BYTES) is not needed while the downloads are made
    profile = imported.profile
    if profile.sample_count == 0:
        raise ProfileFormatError(f"{filename} holds no samples, so there is nothing to show.")
    step(f"Analysing {profile.sample_count:,} samples and writing the downloads (speedscope, collapsed stacks, SVG)")
    summary: dict[str, Any] = {"script_name": filename, "kind": "import", "static_metrics": None, "options": {}}
    with _writing_downloads(profile, artifact_sink, None, export_threads) as downloads:
        summary.update(summarize(profile))
        summary[design_effects.SUMMARY_KEY] = design_effects.summary_entry(profile, summary["hot_functions"])
        artifacts = downloads()
    summary["function_complexity"] = []
    summary["import"] = {
        "format": imported.format,
        "format_description": imported.format_description,
        "approximation": imported.approximation or None,
    }
    message = (f"Imported {profile.sample_count:,} samples ({profile.sample_count * profile.interval_s:.3g} s) "
               f"from {filename}, a {imported.format_label} file.")
    if imported.approximation:
        message += " " + imported.approximation
    summary["outcome"] = {"status": "finished", "exit_code": None, "message": message}
    return Report(summary=summary, artifacts=artifacts, produced_profile=True)


def import_profile_file(path: Path, filename: str, *, on_bytes: Callable[[int], None] | None = None,
                        on_step: Callable[[str], None] | None = None,
                        should_stop: Callable[[], bool] | None = None,
                        max_decompressed_bytes: int | None = None,
                        artifact_sink: ArtifactSink = plain_artifact,
                        export_threads: int = DEFAULT_EXPORT_THREADS) -> Report | None:
    """``import_profile`` of a file on disk (an upload a worker imports); ``on_bytes`` follows how much
    has been read. None when ``should_stop`` said so while reading."""
    # A first pass in chunks reads the file from disk (the slow part on a cold disk) and reports
    # progress; the whole-file read after it comes from the page cache. Reading the chunks into one
    # buffer instead would need a second copy of a file that may be 1 GiB to make it bytes.
    done = 0
    if on_step is not None:
        on_step("Reading the file")
    with path.open("rb", buffering=0) as source:
        while chunk := source.read(IMPORT_READ_CHUNK_BYTES):
            if should_stop is not None and should_stop():
                return None
            done += len(chunk)
            if on_bytes is not None:
                on_bytes(done)
    return import_profile(path.read_bytes(), filename, on_step, max_decompressed_bytes=max_decompressed_bytes,
                          artifact_sink=artifact_sink, export_threads=export_threads)


def recognises_profile(head: bytes, tail: bytes, filename: str) -> str | None:
    """None when the first and last bytes of a file look like a format some importer reads;
    else the sentence that says why the file is refused (checked before a big file is queued)."""
    sample = head + tail
    if not sample.strip():
        return (f"The uploaded profile '{filename}' is empty. Choose a profile file, for example a "
                ".speedscope.json file written by py-spy.")
    if find_importer(sample, filename) is None:
        formats = "; ".join(importer.description for importer in IMPORTERS)
        return (f"The file “{filename}” is not in a profile format flamedeck can read. "
                f"Supported formats: {formats}. Check that you chose the right file.")
    return None


def _read_run_profile(result) -> tuple[Profile | None, int | None]:
    """py-spy's file as a Profile without the runner's frames; (None, None) if unreadable."""
    if result.profile_path is None:
        return None, None
    try:
        raw = load_profile(result.profile_path.read_bytes(), result.profile_path.name)
    except (ProfileFormatError, OSError):
        return None, None

    def without_runner(frames):
        cut = runner_frame_count([f.file for f in frames], result.script_path)
        # Nothing left once the runner's frames are cut: the runner itself, not the script.
        return None if cut is None or cut == len(frames) else frames[cut:]

    profile = raw.restacked(without_runner)
    return profile, profile.sample_count


def _as_shared(profile: Profile, script_path: str, name: str, *, keep_processes: bool,
               project_root: Path | None = None) -> Profile:
    """The profile as a report shows it to anyone with the link: the script's frames name
    the script (a project's files: their path in the project), not the server's scratch
    directory; and a process label only when the user asked for subprocesses (a
    sandboxed script is a grandchild of py-spy, which then labels its process although
    there is only one)."""
    prefix = f"{project_root}/" if project_root else None

    def shared_frame(frame: Frame) -> Frame:
        if frame.file == script_path:
            return Frame(frame.name, name, frame.line)
        if prefix and frame.file.startswith(prefix):
            return Frame(frame.name, frame.file[len(prefix):], frame.line)
        return frame

    shared = profile.mapped(shared_frame)
    shared.name = name
    if not keep_processes:
        for thread in shared.threads:
            thread.process = ""
    return shared


def _project_sources(root: Path) -> dict[str, str]:
    """Each .py file of a project by its path in the project."""
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(root.rglob("*.py")) if path.is_file()}


def without_scratch_paths(text: str, job_dir: Path, script_path: str, name: str,
                          project_root: Path | None = None) -> str:
    """Output as a reader should see it: a traceback names the script, not the server's scratch
    directory ("/var/lib/flamedeck/jobs/17/bench.py" becomes "bench.py", a project's files their
    path in the project, and any other file of the job its path inside the job)."""
    if project_root:
        text = text.replace(f"{project_root}/", "")
    if script_path:
        text = text.replace(script_path, name)
    for directory in {str(job_dir), os.path.realpath(job_dir)}:
        text = text.replace(directory.rstrip("/") + "/", "")
    return text


def render_artifacts(profile: Profile, sink: ArtifactSink = plain_artifact,
                     script_file: str | tuple[str, ...] | None = None,
                     threads: int = DEFAULT_EXPORT_THREADS) -> dict[str, Any]:
    """Every profile download of ``profile``, by artifact name (nothing else to do meanwhile)."""
    with _writing_downloads(profile, sink, script_file, threads) as downloads:
        return downloads()


@contextmanager
def _writing_downloads(profile: Profile, sink: ArtifactSink, script_file: str | tuple[str, ...] | None,
                       threads: int) -> Iterator[Callable[[], dict[str, Any]]]:
    """Start writing every profile download, ``threads`` at a time, each into ``sink``, while
    the caller goes on (with the analysis); yields the function that waits for them and returns
    them by artifact name. Only for a profile with samples (an empty file helps no one).

    Threads pay because the slow parts release the GIL: the compiled kernels, numpy, file
    writes and a worker's gzip. The exporters share the profile's function level and call
    trees, which the first thread to need one builds while the others wait for it."""
    pool = ThreadPoolExecutor(max_workers=max(threads, 1), thread_name_prefix="downloads")
    try:
        futures = {}
        for artifact in sorted(PROFILE_ARTIFACTS, key=WRITE_ORDER.index):
            exporter, options = PROFILE_ARTIFACTS[artifact]
            if exporter in KNOWS_SCRIPT_FILE:
                options = {**options, "script_file": script_file}
            futures[artifact] = pool.submit(sink, partial(get_exporter(exporter, **options).write, profile))
        yield lambda: {artifact: futures[artifact].result() for artifact in PROFILE_ARTIFACTS}
    finally:  # also when the caller failed: nothing keeps running after the report is given up
        pool.shutdown(wait=True, cancel_futures=True)


def _empty_runtime() -> dict[str, Any]:
    return {
        "total_samples": 0, "unique_functions": 0, "hot_functions": [], "threads": [],
        "duration_s": 0.0, "interval_s": 0.0, "function_complexity": [],
    }
