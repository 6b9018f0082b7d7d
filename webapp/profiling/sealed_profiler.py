"""An execute-only copy of py-spy for the sandbox, so that the script cannot reach into py-spy.

Inside the bubblewrap sandbox py-spy is the script's parent and runs as the same
user, and nothing there (no Yama, no capability) stops a process from opening
``/proc/<its parent>/mem`` - which would let a script rewrite py-spy, the one
process in the sandbox that may use ptrace. The kernel makes a process
non-dumpable when it executes a file its user may not read, and a non-dumpable
process's memory, descriptors and environment are closed to every process of the
same user that holds no capability. So the sandbox runs py-spy from a copy its
user may execute but not read (mode 0111), bound read-only (no chmod inside).

One copy per worker process, in a private directory under the system temp dir;
copies left by workers that were killed are removed when the next one is made.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from .processes import is_alive

PREFIX = "flamedeck-profiler-"
EXECUTE_ONLY = 0o111
DIRECTORY_MODE = 0o711  # others may reach the copy, not list the directory


@lru_cache(maxsize=4)
def sealed_copy(pyspy: str) -> str:
    """The path of an execute-only copy of ``pyspy``, made once per process."""
    _remove_stale_copies()
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    directory.chmod(DIRECTORY_MODE)
    copy = directory / "py-spy"  # py-spy's command name, which the worker looks it up by
    shutil.copyfile(pyspy, copy)
    copy.chmod(EXECUTE_ONLY)
    atexit.register(shutil.rmtree, directory, True)
    return str(copy)


def _remove_stale_copies() -> None:
    """Remove copies whose worker process is gone (the pid is part of the directory name)."""
    me = os.geteuid()
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid_text = directory.name[len(PREFIX):].split("-", 1)[0]
        try:
            if directory.lstat().st_uid != me or not directory.is_dir() or directory.is_symlink():
                continue
            if pid_text.isdigit() and not is_alive(int(pid_text)):
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:
            continue
