"""The ``flamedeck`` command: profile or import locally, or run the server and workers.

``profile`` and ``import`` need no server: they run the same pipeline as the
background worker and write the same files a report offers for download.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import orjson

from webapp import compare_cli, pipeline
from webapp.summary_text import format_summary

# Commands with parsers of their own (they load Flask, the database or the queue); `flamedeck
# --help` lists them beside the local ones, and `flamedeck <command> --help` gives their options.
SERVER_COMMANDS = {
    "serve": "run the web app and its job workers (gunicorn + a worker process)",
    "worker": "run only the job worker (for the Procfile's worker process)",
    "db": "show or upgrade the report database's schema ('flamedeck db upgrade')",
    "env": "create, list or add packages to the environment scripts run in ('flamedeck env install PKG...')",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``flamedeck`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SERVER_COMMANDS:
        return _server_command(argv[0], argv[1:])
    script_args: list[str] = []
    if "--" in argv:  # everything after "--" belongs to the profiled script
        cut = argv.index("--")
        argv, script_args = argv[:cut], argv[cut + 1 :]
    args = _parser().parse_args(argv)
    if args.command == "profile":
        return _profile(args, script_args)
    if args.command == "compare":
        return compare_cli.run(args)
    if args.command == "convert":
        return _convert(args)
    return _import(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flamedeck",
        description="Profile Python scripts with py-spy and share the results.",
        epilog="'flamedeck COMMAND --help' describes a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    profile = commands.add_parser(
        "profile",
        help="run a script under py-spy and write its report files",
        usage="flamedeck profile SCRIPT [options] [-- SCRIPT_ARGS...]",
    )
    profile.add_argument("script", type=Path, help="the Python script to run")
    profile.add_argument("--duration", default="10", metavar="S", help="time limit in whole seconds (default 10)")
    profile.add_argument("--rate", default="100", metavar="HZ", help="samples per second (default 100)")
    profile.add_argument("--idle", action="store_true", help="also sample idle (waiting) threads")
    profile.add_argument("--gil", action="store_true", help="only sample threads holding the GIL")
    profile.add_argument("--native", action="store_true", help="include native C/C++ frames")
    profile.add_argument("--subprocesses", action="store_true", help="also profile child processes")
    profile.add_argument("--nonblocking", action="store_true", help="sample without pausing the script")
    profile.add_argument("--no-coverage", action="store_true",
                         help="skip the second run that measures line and branch coverage")
    _add_output_dir(profile)

    imported = commands.add_parser("import", help="turn an existing profile file (any supported format) into report files")
    imported.add_argument("file", type=Path, help="a profile file, e.g. a .speedscope.json written by py-spy")
    _add_output_dir(imported)
    compare_cli.add_parser(commands)
    _add_convert_command(commands)
    for name, summary in SERVER_COMMANDS.items():
        # Only listed here: main() hands these commands to their own parsers before this one runs.
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def _add_convert_command(commands) -> None:
    """``flamedeck convert FILE -o OUT.speedscope.json``: any supported format to speedscope."""
    convert = commands.add_parser(
        "convert", help="convert a profile of any supported format to a speedscope file",
        description="Read a profile (collapsed stacks, perf script, .cpuprofile, Trace Event, pprof, "
                    "pyinstrument, Firefox Profiler, speedscope, Austin, cProfile) and write it as speedscope JSON.",
    )
    convert.add_argument("file", type=Path, help="the profile to convert (its format is recognised by content)")
    convert.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                         help="the speedscope file to write, e.g. OUT.speedscope.json")
    convert.add_argument("--functions", action="store_true",
                         help="one frame per function instead of per line")


def _convert(args: argparse.Namespace) -> int:
    from webapp.config import ConfigError, load_settings
    from webapp.profiles import ProfileFormatError, get_exporter
    from webapp.profiles.importers import read_profile

    try:
        data = args.file.read_bytes()
        limit = load_settings()["MAX_DECOMPRESSED_BYTES"]
    except OSError as error:
        return _fail(f"Cannot read {args.file}: {error.strerror}.")
    except ConfigError as error:
        return _fail(str(error))
    try:
        imported = read_profile(data, args.file.name, max_decompressed_bytes=limit)
    except ProfileFormatError as error:
        return _fail(str(error))
    if imported.profile.sample_count == 0:
        return _fail(f"{args.file} holds no samples, so there is nothing to convert.")
    rendered = get_exporter("speedscope", line_level=not args.functions).render(imported.profile)
    try:
        args.output.write_bytes(rendered)
    except OSError as error:
        return _fail(f"Cannot write {args.output}: {error.strerror}.")
    print(f"Read {args.file} as {imported.format_description}; wrote {args.output} "
          f"({imported.profile.sample_count} samples).")
    if imported.approximation:
        print(f"Note: {imported.approximation}")
    return 0


def _add_output_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir", type=Path, default=Path("."), metavar="DIR",
        help="where to write the files (default: the current directory)",
    )


def _profile(args: argparse.Namespace, script_args: list[str]) -> int:
    from webapp.profiling import OptionsError, RunOptions

    if not args.script.is_file():
        return _fail(f"{args.script} is not a file; give the path of a Python script.")
    try:
        options = RunOptions.from_strings(
            {
                "duration": args.duration,
                "rate": args.rate,
                "idle": args.idle,
                "gil": args.gil,
                "native": args.native,
                "subprocesses": args.subprocesses,
                "nonblocking": args.nonblocking,
                "coverage": not args.no_coverage,
                "args": script_args,
            }
        )
    except OptionsError as error:
        return _fail(str(error))
    _report_inline_metadata(args.script)
    print(f"Profiling {args.script.name} for up to {options.duration_s} s at {options.rate_hz} Hz ...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="flamedeck-") as job_dir:
        report = pipeline.profile_script(args.script.resolve(), options, Path(job_dir))
    return _write(report, args.script.stem, args.output_dir)


def _report_inline_metadata(script: Path) -> None:
    """Say what a PEP 723 block asks for and what of it this Python lacks; install nothing:
    the command runs the script in the user's own environment, as they set it up."""
    from importlib import metadata

    from packaging.utils import canonicalize_name

    from webapp.environments import InlineMetadataError, read_inline_metadata
    from webapp.environments.dependencies import unmet

    try:
        declared = read_inline_metadata(script.read_text(encoding="utf-8", errors="replace"))
    except InlineMetadataError as error:
        print(f"flamedeck: note: {error}", file=sys.stderr)
        return
    if not declared.declared:
        return
    python = ".".join(str(part) for part in sys.version_info[:3])
    installed = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            installed.setdefault(canonicalize_name(name), dist.version)
    needs = ", ".join(declared.texts) or "no packages"
    lines = [f"The script declares (PEP 723): {needs}"
             + (f"; Python {declared.requires_python}" if declared.requires_python else "") + "."]
    missing = unmet(declared.dependencies, installed, python)
    if missing:
        lines.append("Not in this environment: " + ", ".join(str(r) for r in missing)
                     + ". flamedeck profile installs nothing; it runs the script with this Python as it is.")
    if not declared.python_allowed(python):
        lines.append(f"This is Python {python}, which the script does not accept.")
    print("flamedeck: " + " ".join(lines), file=sys.stderr)


def _import(args: argparse.Namespace) -> int:
    from webapp.profiles import ProfileFormatError

    try:
        data = args.file.read_bytes()
    except OSError as error:
        return _fail(f"Cannot read {args.file}: {error.strerror}.")
    try:
        report = pipeline.import_profile(data, args.file.name)
    except ProfileFormatError as error:
        return _fail(str(error))
    from webapp.profiles.importers.base import name_from_filename

    stem = name_from_filename(args.file.name)
    return _write(report, stem, args.output_dir)


def _write(report: pipeline.Report, stem: str, output_dir: Path) -> int:
    print(format_summary(report.summary))
    if not report.produced_profile:
        return 1
    output_dir.mkdir(parents=True, exist_ok=True)
    written = {
        f"{stem}.speedscope.json": report.artifacts["profile.speedscope.json"],
        f"{stem}.functions.speedscope.json": report.artifacts["profile.functions.speedscope.json"],
        f"{stem}.collapsed.txt": report.artifacts["profile.collapsed.txt"],
        f"{stem}.report.json": orjson.dumps(report.summary, option=orjson.OPT_INDENT_2),
    }
    for artifact, suffix in (("coverage.json", ".coverage.json"), ("coverage.lcov", ".lcov")):
        if artifact in report.artifacts:
            written[f"{stem}{suffix}"] = report.artifacts[artifact]
    for name, data in written.items():
        (output_dir / name).write_bytes(data)
    print("Wrote " + ", ".join(str(output_dir / name) for name in written))
    return 0


def _fail(message: str) -> int:
    print(f"flamedeck: {message}", file=sys.stderr)
    return 2


def _server_command(command: str, argv: list[str]) -> int:
    # Imported lazily: the local commands must not pay for Flask, SQLAlchemy and Huey.
    if command == "env":
        from webapp.env_command import main as env_main

        return env_main(argv)
    if command == "db":
        from webapp.migrations import main as db_main

        return db_main(argv)
    from webapp import serve

    return serve.main(argv) if command == "serve" else serve.worker_main(argv)


if __name__ == "__main__":
    sys.exit(main())
