"""Every setting of the web app and its workers, in one declarative table.

Each setting is read from the environment variable ``FLAMEDECK_<NAME>``; its type
is the type of its default. The README's settings table is generated from this
table (``python -m webapp.config --markdown``) and a test keeps the two in step.
Nothing here runs at import time except building the table itself.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "FLAMEDECK_"
SECRET_KEY_FILE = "secret_key"
SECRET_KEY_BYTES = 32


@dataclass(frozen=True)
class Setting:
    """One setting: its name (without the prefix), default, unit and meaning."""

    name: str
    default: Any
    unit: str
    help: str

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name


SETTINGS: tuple[Setting, ...] = (
    # Where things live
    Setting("DATA_DIR", "instance", "path",
            "Directory for the SQLite database, the SQLite queue and the secret key (owner-only)."),
    Setting("DATABASE_URL", "", "URL",
            "SQLAlchemy URL of the report database; empty means a SQLite file in DATA_DIR."),
    Setting("REDIS_URL", "", "URL",
            "Redis URL for the job queue; empty means a SQLite queue file in DATA_DIR."),
    Setting("QUEUE_NAME", "flamedeck", "name",
            "Name of the job queue; installations sharing one Redis need different names."),
    Setting("DATABASE_POOL_SIZE", 5, "connections",
            "Database connections each process keeps open (not SQLite); as many again may open when busy."),
    Setting("DATABASE_RETRY_DELAY_S", 1.0, "s",
            "After losing its database connection (a restart), how long a worker waits before each new try."),
    Setting("DATABASE_RETRY_WINDOW_S", 30.0, "s",
            "How long a worker keeps trying again after losing its database connection (long enough for "
            "a restart or failover); after that the step fails and the job is left to the reaper."),
    Setting("SECRET_KEY", "", "text",
            "Key that signs the session cookie (CSRF tokens, the delete tokens and upload token a browser holds); "
            "empty means one is generated once and kept in DATA_DIR. Set the same key on every web machine."),
    Setting("UPLOAD_TOKEN", "", "text",
            "When set, submitting a script or importing a profile needs this token (API: "
            "`Authorization: Bearer <token>`; the form asks once per browser); reading reports never does. "
            "Empty means anyone may submit. Set it on a public instance."),
    Setting("JOBS_DIR", "", "path",
            "Scratch space of running jobs; empty means a directory per installation under the system temp dir."),
    Setting("UPLOAD_DIR", "", "path",
            "Where uploaded profiles wait for the worker that imports them (each is removed once imported); "
            "empty means `uploads` in DATA_DIR. With workers on other machines, set one shared directory "
            "(an NFS mount, say) at the same path on every web and worker machine."),
    Setting("EXAMPLES_DIR", "examples", "path",
            "Directory whose .py files are offered as example scripts."),
    # Script environments (what scripts may import)
    Setting("SCRIPT_ENV_DIR", "", "path",
            "The default script environment: a venv whose packages scripts may import (`flamedeck env install`); "
            "empty means /var/lib/flamedeck/script-env for a root worker, else ~/.local/share/flamedeck/script-env. "
            "The sandbox user must be able to read it."),
    Setting("SCRIPT_ENV_CACHE_DIR", "", "path",
            "Where environments installed for PEP 723 dependencies are kept, one per resolved set of packages; "
            "empty means a `script-env-cache` directory beside the default environment."),
    Setting("SCRIPT_PACKAGE_SOURCE", "", "URL or path",
            "Where the worker may install the PEP 723 dependencies of a script from: a package index URL, or a "
            "directory of wheels. Empty (the default) turns such installs off; only the default environment is used."),
    Setting("INSTALL_TIMEOUT_S", 300, "s", "Longest time the install of one script's dependencies may take."),
    Setting("MAX_INSTALL_BYTES", 1024 * 1024 * 1024, "bytes",
            "Largest environment the install of one script's dependencies may produce; a larger one is removed."),
    # Input limits
    Setting("MAX_UPLOAD_BYTES", 1024 * 1024 * 1024, "bytes",
            "Largest request accepted (a script, a project or a profile to import); larger requests get 413. "
            "Uploads stream to disk (UPLOAD_DIR), never whole into a web process's memory."),
    Setting("MAX_INLINE_IMPORT_BYTES", 8 * 1024 * 1024, "bytes",
            "Largest profile imported at once by the web request (the answer is the finished report, or a 4xx "
            "for a bad file); a bigger one is imported by a worker, with progress in the report's status box."),
    Setting("MAX_SCRIPT_BYTES", 1024 * 1024, "bytes",
            "Largest script accepted, uploaded or pasted; larger scripts get 413."),
    Setting("MAX_PROJECT_FILES", 200, "files", "Most files a project (a .zip or several uploaded files) may have."),
    Setting("MAX_PROJECT_BYTES", 16 * 1024 * 1024, "bytes",
            "Largest total size of a project's files once unpacked; a larger project gets 413."),
    Setting("MAX_ZIP_RATIO", 100, "times",
            "Largest ratio of unpacked to compressed size of any file in a .zip; a higher one is refused as a zip bomb."),
    Setting("MAX_DURATION_S", 60, "s", "Longest time limit a user may ask for."),
    Setting("DEFAULT_DURATION_S", 10, "s", "Time limit pre-filled in the form and used when none is given."),
    Setting("MAX_RATE_HZ", 1000, "Hz", "Highest sampling rate a user may ask for."),
    Setting("DEFAULT_RATE_HZ", 100, "Hz", "Sampling rate pre-filled in the form and used when none is given."),
    Setting("COVERAGE_BY_DEFAULT", True, "on/off",
            "Whether a run measures line and branch coverage when the submission does not say (the form's box "
            "starts ticked; the API's `coverage` field defaults to it). Coverage is a second run of the script, "
            "so it doubles a job's time."),
    Setting("MAX_ARGS", 32, "arguments", "Most command-line arguments a script may be given."),
    Setting("MAX_ARG_CHARS", 1000, "characters", "Longest single argument a script may be given."),
    Setting("MAX_DECOMPRESSED_BYTES", 1024 * 1024 * 1024, "bytes",
            "Largest size a gzip-compressed profile (e.g. pprof's .pb.gz) may expand to when imported; "
            "larger ones are refused as possible gzip bombs."),
    # Abuse limits
    Setting("RATE_LIMIT_PER_MINUTE", 30, "requests",
            "Submissions and imports one client address may make in any minute (form and API together); "
            "more get 429 with Retry-After."),
    Setting("RATE_LIMIT_PER_HOUR", 300, "requests",
            "Submissions and imports one client address may make in any hour. In team mode the counts live "
            "in Redis and hold across web machines; otherwise each web process counts on its own."),
    Setting("TRUSTED_PROXIES", 0, "proxies",
            "Reverse proxies in front of the web server whose X-Forwarded-For (and -Proto) are believed, "
            "so that limits apply to the real client; 0 means the connecting address counts."),
    # Queue and job lifecycle
    Setting("MAX_QUEUED", 50, "jobs", "Waiting jobs beyond which new submissions get 503 with Retry-After."),
    Setting("RETRY_AFTER_S", 30, "s", "Value of the Retry-After header sent with that 503."),
    Setting("MAX_ATTEMPTS", 3, "attempts", "Times a job is started before a dying worker makes it fail."),
    Setting("JOB_LEASE_S", 30, "s",
            "How long a worker's claim on a job lasts without a heartbeat before the reaper takes it back."),
    Setting("HEARTBEAT_INTERVAL_S", 1.0, "s",
            "How often a running job renews its lease, saves its progress and checks for cancellation."),
    Setting("REAPER_INTERVAL_S", 10, "s", "How often the reaper looks for expired leases and stale queued jobs."),
    Setting("QUEUED_STALE_S", 300, "s", "A job still queued after this long is put on the queue again."),
    Setting("QUEUE_POLL_INTERVAL_S", 0.1, "s", "How often an idle worker polls the SQLite queue for a new job."),
    Setting("WORKERS", 2, "threads", "Jobs one worker process runs at the same time."),
    Setting("EXPORT_THREADS", 2, "threads",
            "Threads one job uses to write a profile's downloads (speedscope, collapsed, SVG ...), beside the "
            "one analysing it; their slow parts (compiled loops, numpy, gzip) use a core each."),
    Setting("SQLITE_BUSY_TIMEOUT_S", 10.0, "s", "How long a SQLite write waits for another writer to finish."),
    Setting("RETENTION_DAYS", 0, "days",
            "Reports older than this are deleted with their files by the periodic task; 0 keeps them forever."),
    Setting("REPORT_CACHE_BYTES", 64 * 1024 * 1024, "bytes",
            "Memory each web process may use to keep finished reports' rendered tables and artifacts; 0 keeps none."),
    Setting("REPORT_RECHECK_S", 1.0, "s",
            "How long a web process serves a finished report from memory before checking it still exists "
            "(a report deleted through another process may be served that long); 0 checks every request."),
    Setting("COMPARE_FUNCTION_ROWS", 200, "rows",
            "Functions listed on a compare page, in its default order (significant changes first, largest "
            "first); the compare API has them all. Thousands of rows would slow the page's first picture."),
    Setting("HOT_FUNCTION_ROWS", 50, "rows",
            "Hot functions listed on a report page (all of them are in the downloads and the API)."),
    # The web server started by `flamedeck serve`
    Setting("HOST", "127.0.0.1", "address", "Address `flamedeck serve` listens on."),
    Setting("PORT", 8000, "port", "Port `flamedeck serve` listens on."),
    Setting("WEB_PROCESSES", 2, "processes", "gunicorn worker processes started by `flamedeck serve`."),
    Setting("WEB_THREADS", 4, "threads", "Threads per gunicorn worker process."),
    Setting("WEB_TIMEOUT_S", 120, "s",
            "gunicorn restarts a web process whose main loop is silent this long. Its threaded workers keep "
            "answering it while a request runs, so a slow upload (1 GiB on a slow link) is never cut by it."),
    Setting("SHUTDOWN_GRACE_S", 10, "s",
            "On stop, how long `flamedeck serve` waits for its children before killing them."),
    # One profiling run
    Setting("MAX_OUTPUT_BYTES", 1_000_000, "bytes",
            "Script output kept per stream (stdout, stderr); the rest is dropped and the report says so."),
    Setting("GRACE_S", 10.0, "s",
            "After the time limit, how long py-spy may take to write its file before the run is killed."),
    Setting("MAX_COVERAGE_BYTES", 32_000_000, "bytes",
            "Largest coverage.py report the coverage run may hand back; a bigger one is not read (no coverage shown)."),
)


def _sandbox_settings() -> tuple[Setting, ...]:
    # The sandbox library owns its limits (names, units, defaults); they become settings here.
    from webapp.profiling.sandbox_settings import SANDBOX_SETTINGS, sandbox_defaults

    defaults = sandbox_defaults()
    return tuple(Setting(name, defaults[name], unit, help) for name, unit, help in SANDBOX_SETTINGS)


SETTINGS += _sandbox_settings()

BY_NAME = {setting.name: setting for setting in SETTINGS}


class ConfigError(ValueError):
    """A setting's environment variable holds a value of the wrong type."""


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """All settings: the environment's ``FLAMEDECK_*`` value if set, else the default."""
    environ = os.environ if environ is None else environ
    values = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env_var)
        values[setting.name] = setting.default if raw is None or raw == "" else _parse(setting, raw)
    return values


TRUE_WORDS, FALSE_WORDS = {"1", "on", "true", "yes"}, {"0", "off", "false", "no"}


def _parse(setting: Setting, raw: str) -> Any:
    kind = type(setting.default)
    if kind is str:
        return raw
    if kind is bool:
        word = raw.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ConfigError(f"{setting.env_var} must be on or off, not {raw!r}.")
        return word in TRUE_WORDS
    try:
        value = kind(raw.strip())
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{setting.env_var} must be {noun} ({setting.unit}), not {raw!r}.") from None
    if value < 0:
        raise ConfigError(f"{setting.env_var} must not be negative, not {raw!r}.")
    return value


def ensure_secret_key(data_dir: Path) -> str:
    """The key kept in ``data_dir``, generated (readable by the owner only) on first use."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        # Written aside, then linked into place: several processes starting at once
        # all end up with the one key that won, never with a half-written file.
        draft = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(SECRET_KEY_BYTES) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def profiling_limits(settings: Mapping[str, Any]):
    """The limits of one profiling run (webapp.profiling.Limits) that are settings here."""
    from webapp.profiling import Limits

    return Limits(max_duration_s=settings["MAX_DURATION_S"], max_rate_hz=settings["MAX_RATE_HZ"],
                  max_args=settings["MAX_ARGS"], max_arg_chars=settings["MAX_ARG_CHARS"],
                  max_output_bytes=settings["MAX_OUTPUT_BYTES"], grace_s=settings["GRACE_S"],
                  max_coverage_bytes=settings["MAX_COVERAGE_BYTES"])


def settings_markdown() -> str:
    """The settings table as Markdown, for the README."""
    rows = [
        "| Environment variable | Default | Unit | Meaning |",
        "|---|---|---|---|",
    ]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default != "" else "(empty)"
        rows.append(f"| `{setting.env_var}` | {default} | {setting.unit} | {setting.help} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    """``python -m webapp.config --markdown`` prints the README's settings table."""
    if argv != ["--markdown"]:
        print("usage: python -m webapp.config --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(settings_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
