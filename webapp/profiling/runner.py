"""Run one user script as ``__main__`` and record how it ended. Executed by the target Python as a file.

Command line (built by ``webapp.profiling.recording``)::

    python -B runner.py STATUS_FD STDOUT_FD STDERR_FD SCRIPT [ARG ...]

* When ``SECCOMP_ENV`` names a file (the bubblewrap sandbox binds one), the
  seccomp program read from it is installed on this process
  before the script runs, and the variable is removed: the script may not use
  the syscalls py-spy, its parent, needs (see ``seccomp_filter``). If that
  fails, the script is not run (exit ``EXIT_NOT_CONFINED``).
* STDOUT_FD / STDERR_FD are inherited pipe ends; they become fds 1 and 2, so the
  script's output - and its children's - reaches the size-capped copier in the worker.
* The script is compiled under its own path and executed in a fresh ``__main__``
  module, so a profile shows the script's frames directly under this file's frames
  (drop frames whose file is ``RUNNER_PATH``), with no runpy frames in between.
* STATUS_FD (an inherited socket, so a sandbox needs no writable host directory)
  first gives one byte when py-spy has attached (the runner waits for it), then
  receives JSON lines: ``{"kind": "started"}`` just before the script runs, then,
  when the process exits normally, one of ``{"kind": "exited", "exit_code": 0}``,
  ``{"kind": "exited", "exit_code": 1, "exit_message": "..."}`` (``sys.exit("...")``)
  or ``{"kind": "raised", "exit_code": 1, "exception_type": "ValueError",
  "message": "..."}``. "started" alone means the process was killed or called
  ``os._exit``; nothing at all means the script never started.
* When ``COVERAGE_OUT_ENV`` names a file (the coverage run, see ``coverage_run``), the
  script runs under coverage.py (imported from ``COVERAGE_LIB_ENV``, a directory holding
  only the coverage package) with branch measurement, limited to the script's directory
  (a project's: the working directory); when it ends, coverage.py's JSON and LCOV reports
  go to that file as one JSON document ``{"json": {...}, "lcov": "..."}``.

Stdlib only and no ``webapp`` imports: this file runs in the target interpreter,
possibly inside a sandbox that sees nothing else of the application.
"""

import atexit
import builtins
import json
import os
import sys
import types

RUNNER_PATH = os.path.abspath(__file__)
MAX_MESSAGE_CHARS = 2000  # an exception message longer than this is cut in the status file
PR_SET_PDEATHSIG = 1
SIGKILL = 9
EXIT_PARENT_GONE = 125  # the profiler or the worker went away before the script started
EXIT_NOT_CONFINED = 126  # the sandbox asked for a syscall filter that could not be installed
SECCOMP_ENV = "FLAMEDECK_SCRIPT_SECCOMP"
COVERAGE_OUT_ENV = "FLAMEDECK_COVERAGE_OUT"
COVERAGE_LIB_ENV = "FLAMEDECK_COVERAGE_LIB"
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
BPF_INSTRUCTION_BYTES = 8  # sizeof(struct sock_filter)
MAX_FILTER_BYTES = 65536


def main(argv):
    """Run the script named in argv and exit the way the script did."""
    status_fd, stdout_fd, stderr_fd = (int(fd) for fd in argv[1:4])
    script, *args = argv[4:]
    _redirect(stdout_fd, 1)
    _redirect(stderr_fd, 2)
    os.set_inheritable(status_fd, False)  # programs the script starts must not hold it open
    _die_with_parent()
    _confine_syscalls()
    coverage_out = os.environ.pop(COVERAGE_OUT_ENV, None)
    coverage_lib = os.environ.pop(COVERAGE_LIB_ENV, None)
    _wait_for_go(status_fd)
    _send(status_fd, {"kind": "started"})
    ending = {}
    atexit.register(_write_status, status_fd, ending, os.getpid())
    if coverage_out:
        sys.exit(_run_with_coverage(script, args, ending, coverage_out, coverage_lib))
    sys.exit(_run(script, args, ending))


def _run_with_coverage(script, args, ending, out_path, lib_dir):
    """``_run`` under coverage.py; its reports go to ``out_path`` even when the script fails."""
    if lib_dir:
        sys.path.append(lib_dir)
    try:
        import coverage
    except ImportError as error:
        os.write(2, f"flamedeck: coverage.py could not be imported ({error}).\n".encode())
        return _run(script, args, ending)
    script_dir = os.path.dirname(os.path.abspath(script))
    cwd = os.getcwd()
    root = cwd if script_dir == cwd or script_dir.startswith(cwd.rstrip("/") + "/") else script_dir
    include = [os.path.join(root, "*")]
    measured = coverage.Coverage(branch=True, data_file=None, include=include, config_file=False)
    measured.start()
    try:
        return _run(script, args, ending)
    finally:
        measured.stop()
        _write_coverage(measured, out_path, include)


def _write_coverage(measured, out_path, include):
    """coverage.py's JSON and LCOV reports, written in /tmp, gathered into ``out_path``."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        json_path, lcov_path = os.path.join(scratch, "c.json"), os.path.join(scratch, "c.lcov")
        try:
            measured.json_report(outfile=json_path, include=include, show_contexts=False)
            measured.lcov_report(outfile=lcov_path, include=include)
            with open(json_path, encoding="utf-8") as json_file, open(lcov_path, encoding="utf-8") as lcov_file:
                envelope = {"json": json.load(json_file), "lcov": lcov_file.read()}
        except Exception as error:  # noqa: BLE001 - "no data" and the like: the worker says coverage is missing
            envelope = {"error": _text(error)}
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(envelope, out)


def _redirect(fd, target):
    if fd != target:
        os.dup2(fd, target)
        os.close(fd)


def _die_with_parent():
    """Get SIGKILL if the profiler dies, so a crashed worker leaves no script running."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        return  # best effort: the worker's process-group kill still applies
    if os.getppid() != parent:
        os._exit(EXIT_PARENT_GONE)


def _confine_syscalls():
    """Install the sandbox's script filter, if it passed one; never run the script unconfined."""
    path = os.environ.pop(SECCOMP_ENV, None)
    if path is None:
        return
    try:
        with open(path, "rb") as program:
            install_seccomp(program.read(MAX_FILTER_BYTES))
    except (ValueError, OSError, ImportError, AttributeError) as error:
        os.write(2, f"flamedeck: the sandbox's syscall filter could not be installed ({error}); "
                    "the script was not run.\n".encode())
        os._exit(EXIT_NOT_CONFINED)


def install_seccomp(program):
    """Add a BPF seccomp program (an array of struct sock_filter) to this process's filters."""
    import ctypes

    if not program or len(program) % BPF_INSTRUCTION_BYTES:
        raise ValueError("the seccomp program is empty or cut short")

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    instructions = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // BPF_INSTRUCTION_BYTES, ctypes.cast(instructions, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), zero, zero, zero) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog), zero, zero) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _wait_for_go(status_fd):
    """Block until the worker has seen py-spy attach (see webapp/profiling/gate.py)."""
    try:
        go = os.read(status_fd, 1)
    except OSError:
        return  # a plain pipe, not the gate's socket: nothing to wait for
    if not go:
        os._exit(EXIT_PARENT_GONE)  # the worker gave up on this run


def _run(script, args, ending):
    """Execute the script like ``python script args``; fill ``ending``; return the exit code."""
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = builtins
    sys.modules["__main__"] = module
    try:
        with open(script, "rb") as source_file:
            source = source_file.read()
        exec(compile(source, script, "exec"), module.__dict__)
    except SystemExit as exit_request:
        ending.update(_exit_record(exit_request.code))
        return exit_request.code
    except BaseException as error:  # noqa: BLE001 - whatever the script raised is its result
        ending.update(_raised_record(error))
        _print_traceback(error)
        return 1
    ending.update(kind="exited", exit_code=0)
    return 0


def _exit_record(code):
    """Mirror what Python does with ``sys.exit(code)``."""
    if code is None:
        return {"kind": "exited", "exit_code": 0}
    if isinstance(code, int):
        return {"kind": "exited", "exit_code": int(code)}
    return {"kind": "exited", "exit_code": 1, "exit_message": _text(code)}


def _raised_record(error):
    kind = type(error)
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    return {"kind": "raised", "exit_code": 1, "exception_type": name, "message": _text(error)}


def _text(value):
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide how the script ended
        text = f"<unprintable {type(value).__name__}>"
    return text[:MAX_MESSAGE_CHARS]


def _print_traceback(error):
    """Print the traceback as Python would, minus this file's frames."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == RUNNER_PATH:
        tb = tb.tb_next
    sys.excepthook(type(error), error.with_traceback(tb), tb)


def _write_status(status_fd, ending, runner_pid):
    """Runs last at exit (after threads and the script's own atexit handlers)."""
    if os.getpid() != runner_pid or not ending:
        return  # a child forked by the script is exiting, not the script itself
    _send(status_fd, ending)
    try:
        os.close(status_fd)
    except OSError:
        pass


def _send(status_fd, record):
    """Write one JSON line to the status pipe."""
    data = (json.dumps(record) + "\n").encode("utf-8")
    try:
        while data:
            data = data[os.write(status_fd, data) :]
    except OSError:
        pass  # the script closed the pipe: the worker sees no ending


if __name__ == "__main__":
    main(sys.argv)
