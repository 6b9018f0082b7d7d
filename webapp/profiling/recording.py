"""Run one script under ``py-spy record`` with a wall-clock limit, and gather what happened.

Sequence: py-spy starts in its own session and spawns the runner (through the
launcher); once py-spy says it samples, the runner is let go (see ``gate``) and the
clock starts; the worker copies the script's output pipes into capped files while
reporting progress; at the time limit or on cancel py-spy gets SIGINT (so it writes
its file) and, after ``grace_s``, its whole group gets SIGKILL; finally every
leftover process of the run is killed (see ``processes``) and the evidence is
classified (see ``outcome``). A run py-spy could not attach to never started the
script, so it is tried again, up to ``Limits.attach_attempts`` times.
"""

from __future__ import annotations

import fcntl
import functools
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .capture import CappedFile, PipeCopier, tail
from .gate import StartGate, read_status
from .launch import DirectLauncher, Launcher, LaunchSpec
from .options import Limits, RunOptions, validate
from .outcome import CANCELLED, ERROR, TIME_LIMIT, Outcome, RunEvidence, classify, corrupted, samples_in_log
from .processes import RUN_TOKEN_ENV, die_with_parent, kill_group, kill_leftovers
from .profiler_process import ProfilerProcess
from .runner import RUNNER_PATH
from .sampler import find_pyspy, record_command

PROFILE_NAME = "py-spy.speedscope.json"
STATUS_NAME = "run-status.json"
STDOUT_NAME = "stdout.txt"
STDERR_NAME = "stderr.txt"
LOG_NAME = "py-spy.log"
STDERR_TAIL_BYTES = 4000  # end of the script's stderr quoted in an Outcome's details
MAX_STATUS_BYTES = 64_000  # the runner's status JSON (its message is capped at 2000 characters)
OUTPUT_DRAIN_TIMEOUT_S = 2.0  # after the run, how long to wait for the output pipes to close
EXIT_CHECK_INTERVAL_S = 0.05  # how often the worker notices that py-spy has exited
FIRST_PASSED_FD = 10  # descriptors handed to the runner start here (see _above_shell_fds)
SIGINT_REPEAT_S = 0.5  # how often py-spy inside the sandbox is asked again to stop (see ProfilerProcess)
# Only these variables of the worker reach the script: the worker's own environment
# holds secrets (database URL, secret key) that a script could otherwise print.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


@dataclass
class RunResult:
    """What one run left behind. ``outcome`` is preliminary until ``finalize_outcome``."""

    outcome: Outcome
    profile_path: Path | None  # py-spy's speedscope file; None when it wrote nothing usable
    stdout_path: Path
    stderr_path: Path
    profiler_log: str  # end of py-spy's own output
    elapsed_s: float
    options: RunOptions
    script_path: str = ""  # the script's file name as it appears in the profile's frames
    sandboxed: bool = False  # False: the script ran with rlimits only
    stdout_dropped_bytes: int = 0  # output past Limits.max_output_bytes
    stderr_dropped_bytes: int = 0
    evidence: RunEvidence | None = None  # what the outcome was decided on


def finalize_outcome(result: RunResult, sample_count: int | None) -> Outcome:
    """The final verdict once the caller parsed the profile: None = unreadable, 0 = no samples."""
    if result.profile_path is None or result.evidence is None:
        return result.outcome
    if sample_count is None:
        return corrupted(result.outcome, result.profiler_log)
    return classify(result.evidence, sample_count)


def run_script(
    script: Path,
    options: RunOptions,
    job_dir: Path,
    *,
    limits: Limits = Limits(),
    python: str = sys.executable,
    launcher: Launcher | None = None,
    on_progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    workdir: Path | None = None,
    coverage=None,
) -> RunResult:
    """Profile one run of ``script`` in ``job_dir``; raise OptionsError before starting if options are invalid.

    ``workdir`` (a project's files, read-only) becomes the script's working directory;
    without it the script starts where the launcher puts it (a sandbox's /tmp).
    ``coverage`` (``coverage_run.CoverageFiles``) makes this the coverage run: the script
    runs under coverage.py, which writes its report to ``coverage.out_file``.

    ``on_progress(elapsed_s)`` and ``should_stop()`` are called about every
    ``limits.poll_interval_s``; ``should_stop()`` returning True ends the run like
    the time limit, with a "cancelled" outcome. Nothing the run started survives it.
    """
    validate(options, limits)
    launcher = launcher or DirectLauncher()
    job_dir = Path(job_dir).absolute()
    job_dir.mkdir(parents=True, exist_ok=True)
    pyspy = find_pyspy()
    for _ in range(max(limits.attach_attempts, 1)):
        result = _new_result(script, options, job_dir, launcher)
        if pyspy is None:
            return _without_profiler(result)
        _Recording(pyspy, options, limits, job_dir, result, workdir, coverage).run(python, launcher, on_progress, should_stop)
        # py-spy gives up attaching after ~0.4 s; a slow interpreter start-up can outlast
        # that. The script never ran in that case, so running it again is safe.
        if result.outcome.reason != "attach_failed":
            break
    return result


def _new_result(script: Path, options: RunOptions, job_dir: Path, launcher: Launcher) -> RunResult:
    """An empty result, after removing a previous attempt's files."""
    for stale in (PROFILE_NAME, STATUS_NAME):
        (job_dir / stale).unlink(missing_ok=True)
    script_path = os.path.abspath(script)
    return RunResult(
        outcome=Outcome(ERROR, None, "The run did not start.", reason="not_started"),
        profile_path=None,
        stdout_path=job_dir / STDOUT_NAME,
        stderr_path=job_dir / STDERR_NAME,
        profiler_log="",
        elapsed_s=0.0,
        options=options,
        script_path=script_path,
        sandboxed=launcher.sandboxed,
    )


def _without_profiler(result: RunResult) -> RunResult:
    for path in (result.stdout_path, result.stderr_path):
        path.write_bytes(b"")
    result.outcome = Outcome(
        ERROR,
        None,
        "The py-spy profiler is not installed next to this Python nor on the PATH, so nothing "
        "can be profiled. Install it in the server's environment (pip install py-spy).",
        reason="profiler_missing",
    )
    return result


class _Recording:
    """One py-spy process and the pipes, files and clock around it."""

    def __init__(self, pyspy: str, options: RunOptions, limits: Limits, job_dir: Path, result: RunResult,
                 workdir: Path | None = None, coverage=None):
        self.coverage = coverage
        self.pyspy, self.options, self.limits = pyspy, options, limits
        self.workdir = Path(workdir).absolute() if workdir else None
        self.job_dir, self.result = job_dir, result
        self.token = secrets.token_hex(16)  # marks every process of this run (see processes.py)
        self.copier = PipeCopier()
        self.gate = StartGate()
        self.stopped_by: str | None = None
        self.profiler_killed = False
        self.sandbox_problem: str | None = None  # why the script could not be confined; it never ran

    def run(self, python: str, launcher: Launcher, on_progress, should_stop) -> None:
        """Start py-spy, watch it, clean up, and fill in the result."""
        paths = (self.result.stdout_path, self.result.stderr_path)
        sinks = [CappedFile(path, self.limits.max_output_bytes) for path in paths]
        status = CappedFile(self.job_dir / STATUS_NAME, MAX_STATUS_BYTES)  # via the gate's socket: see gate.py
        process = None
        self.spec: LaunchSpec | None = None
        launched = time.monotonic()
        try:
            process = self._launch(python, launcher, status, sinks)
            if process is not None:
                self._watch(process, launched, on_progress, should_stop)
        finally:
            self.result.elapsed_s = time.monotonic() - (self.gate.opened_at or launched)
            self.gate.close()
            if process is not None:
                self._stop_everything(process)
            if self.spec is not None and self.spec.cleanup is not None:
                self.spec.cleanup()
            self.copier.drain(OUTPUT_DRAIN_TIMEOUT_S)
            self.copier.close()
            for sink in [status, *sinks]:
                sink.close()
        self.result.stdout_dropped_bytes, self.result.stderr_dropped_bytes = (s.dropped_bytes for s in sinks)
        if process is not None:
            self._judge(process.returncode, python)

    def _launch(
        self, python: str, launcher: Launcher, status: CappedFile, sinks: list[CappedFile]
    ) -> subprocess.Popen | None:
        """Start py-spy with the gate's socket and one pipe per output file; None (and an outcome) if it cannot start."""
        write_ends = [_above_shell_fds(self.gate.runner_fd)]
        self.copier.add(self.gate.status_reader(), status)
        try:
            for sink in sinks:
                read_fd, write_fd = os.pipe()
                write_ends.append(_above_shell_fds(write_fd))
                self.copier.add(read_fd, sink)
            runner_argv = [python, "-B", RUNNER_PATH, *map(str, write_ends), self.result.script_path]
            argv = [*runner_argv, *self.options.args]
            # Only passed when asked for: a launcher that predates projects still works for single scripts.
            extra = {"workdir": self.workdir} if self.workdir else {}
            if self.coverage is not None:
                extra["coverage"] = self.coverage
            self.spec = launcher.launch(argv, self.job_dir, **extra)
            return self._start(self.spec, write_ends)
        except OSError as error:  # py-spy itself could not be executed
            self.result.outcome = _profiler_unusable(self.pyspy, error)
            return None
        finally:
            for fd in write_ends:  # from here on only py-spy and its children hold the write ends
                os.close(fd)

    def _start(self, spec: LaunchSpec, pass_fds: list[int]) -> subprocess.Popen:
        inside = spec.profiler_inside
        if inside is None:
            command = [*record_command(self.pyspy, self.options, str(self.job_dir / PROFILE_NAME)), "--", *spec.argv]
        else:
            command = [*inside.prefix, *record_command(inside.pyspy, self.options, inside.profile_path),
                       "--", *spec.argv]
        with open(self.job_dir / LOG_NAME, "wb") as log:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Inside bubblewrap the sandbox sets the script's directory; outside, py-spy's is inherited.
                cwd=self.workdir if self.workdir and inside is None else self.job_dir,
                env=self._environment(spec),
                pass_fds=pass_fds,
                start_new_session=True,  # one group and session for py-spy and all it starts
                preexec_fn=functools.partial(_prepare_child, os.getpid(), spec.preexec_fn),
            )

    def _environment(self, spec: LaunchSpec) -> dict[str, str]:
        env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
        env.setdefault("PATH", os.defpath)
        env["HOME"] = str(self.job_dir)
        env.update(spec.env or {})
        env[RUN_TOKEN_ENV] = self.token
        return env

    def _watch(self, process: subprocess.Popen, launched: float, on_progress, should_stop) -> None:
        """Open the gate once py-spy attached; SIGINT py-spy at the time limit or on cancel; kill it if it lingers.

        The duration is counted from the gate's opening: attaching is not the script's time.
        """
        interval = self.limits.poll_interval_s
        last_poll = launched - interval
        asked_at: float | None = None
        log = self.job_dir / LOG_NAME
        profiler = ProfilerProcess(process, self.spec.profiler_inside)
        while process.poll() is None:
            self.copier.copy_for(EXIT_CHECK_INTERVAL_S)
            now = time.monotonic()
            if asked_at is not None:
                if now - asked_at >= self.limits.grace_s:
                    self.profiler_killed = True
                    kill_group(process.pid)
                    process.wait()
                elif profiler.repeats_interrupt and now - last_asked >= SIGINT_REPEAT_S:
                    last_asked = now
                    profiler.interrupt()
                continue
            if self.gate.ready(log, now - launched, self.limits.attach_timeout_s):
                self.sandbox_problem = profiler.confine_script()
                if self.sandbox_problem is not None:
                    kill_group(process.pid)
                    process.wait()
                    break
                self.gate.open(now)
            elapsed = now - self.gate.opened_at if self.gate.opened_at is not None else 0.0
            if now - last_poll >= interval:
                last_poll = now
                if on_progress is not None:
                    on_progress(min(elapsed, float(self.options.duration_s)))
                if should_stop is not None and should_stop():
                    self.stopped_by = CANCELLED
            if self.stopped_by is None and elapsed >= self.options.duration_s:
                self.stopped_by = TIME_LIMIT
            if self.stopped_by is not None:
                profiler.interrupt()
                asked_at = last_asked = now

    def _stop_everything(self, process: subprocess.Popen) -> None:
        if process.poll() is None:  # only after an exception: the normal path waited for py-spy
            kill_group(process.pid)
            process.wait()
        kill_group(process.pid)  # the runner, the script and what it forked, if still alive
        kill_leftovers(process.pid, self.token)

    def _judge(self, returncode: int, python: str) -> None:
        result = self.result
        profile = self.job_dir / PROFILE_NAME
        written = profile.is_file() and profile.stat().st_size > 0
        result.profiler_log = tail(self.job_dir / LOG_NAME, self.limits.max_log_bytes)
        started, ending = read_status(self.job_dir / STATUS_NAME)
        result.evidence = RunEvidence(
            returncode=returncode,
            log=result.profiler_log,
            script_started=started,
            ending=ending,
            stopped_by=self.stopped_by,
            profiler_killed=self.profiler_killed,
            profile_written=written,
            stderr_tail=tail(result.stderr_path, STDERR_TAIL_BYTES),
            python=python,
            duration_s=self.options.duration_s,
            idle=self.options.idle,
            rate_hz=self.options.rate_hz,
            gil=self.options.gil,
            grace_s=self.limits.grace_s,
            elapsed_s=result.elapsed_s,
        )
        result.outcome = classify(result.evidence, samples_in_log(result.profiler_log))
        usable = written and returncode == 0 and not self.profiler_killed
        result.profile_path = profile if usable else None
        if self.sandbox_problem is not None:
            result.outcome = _sandbox_failed(self.sandbox_problem)
            result.profile_path = None


def _above_shell_fds(fd: int) -> int:
    """The same open file on a descriptor >= ``FIRST_PASSED_FD`` (``fd`` is closed).

    A launcher's wrapper shell opens files on single-digit descriptors (dash knows no
    others): a status socket that happened to be fd 9 was replaced by the seccomp
    program, and the runner failed."""
    if fd >= FIRST_PASSED_FD:
        return fd
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, FIRST_PASSED_FD)
    os.close(fd)
    return moved


def _prepare_child(parent_pid: int, launcher_preexec: Callable[[], None] | None) -> None:
    """Runs in py-spy's process before exec: the launcher's set-up, then die-with-the-worker.

    In that order because changing user or group ids (a launcher may) clears PR_SET_PDEATHSIG.
    """
    if launcher_preexec is not None:
        launcher_preexec()
    die_with_parent(parent_pid)


def _sandbox_failed(problem: str) -> Outcome:
    return Outcome(
        ERROR,
        None,
        f"The sandbox could not be set up for this run ({problem}), so the script was not started. "
        "Try again; if it keeps happening, the server's operator should check the worker's log.",
        reason="sandbox_failed",
    )


def _profiler_unusable(pyspy: str, error: OSError) -> Outcome:
    return Outcome(
        ERROR,
        None,
        f"The py-spy profiler at '{pyspy}' could not be started ({error.strerror or error}). "
        "Reinstall it in the server's environment (pip install py-spy).",
        reason="profiler_missing",
    )
