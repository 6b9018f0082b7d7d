"""Telling the script's samples from the runner's, for whoever reads py-spy's profile.

In the script's process every sample of the main thread starts with the runner's
frames (``<module>``, ``main``, ``_run``), then the script's ``<module>``. Samples
taken while the runner itself works (its imports at start, writing the status at
exit) start with runner frames followed by something other than the script.
Samples taken while the interpreter starts (``site``, the ``.pth`` files of the
server's environment, imports the interpreter itself makes) have ``<frozen site>``
in them or the import machinery at their root, and no runner frame: they are not
the script's work either. Other samples without runner frames (the script's
threads, its subprocesses) are the script's, as in a plain ``py-spy record``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .runner import RUNNER_PATH

# The site module's frames, as py-spy names them: frozen since Python 3.11, a file before.
INTERPRETER_STARTUP_FILES = ("<frozen site>", "/site.py")
# A stack whose root is the import machinery was started by the interpreter itself (start-up imports).
IMPORT_MACHINERY_PREFIX = "<frozen importlib"


def runner_frame_count(stack_files: Sequence[str], script_path: str) -> int | None:
    """How many root frames of one sample belong to the runner: 0 if none, None to drop the sample
    (the runner at work, or the interpreter starting up).

    ``stack_files`` are the file names of the sample's frames, root first;
    ``script_path`` is ``RunResult.script_path``.
    """
    count = 0
    while count < len(stack_files) and stack_files[count] == RUNNER_PATH:
        count += 1
    if count == 0:
        return None if _interpreter_starting(stack_files) else 0
    if count < len(stack_files) and stack_files[count] == script_path:
        return count
    return None


def _interpreter_starting(stack_files: Sequence[str]) -> bool:
    if stack_files and stack_files[0].startswith(IMPORT_MACHINERY_PREFIX):
        return True
    return any(name.endswith(INTERPRETER_STARTUP_FILES) for name in stack_files)
