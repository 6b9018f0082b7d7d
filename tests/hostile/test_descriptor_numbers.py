"""A run works whatever descriptor numbers the worker's pipes and sockets get.

A worker runs several jobs in threads, so the numbers the runner's status socket and output
pipes get depend on what the other jobs have open at that moment: on a busy worker any small
number can come up. Each case runs one job in a fresh Python (pytest itself keeps fds 0-12
open, so it would never see a small number) whose lowest free descriptor is ``lowest_free``
with every number above it free: the run's n-th new descriptor is ``lowest_free + n``, so over
the cases every one of its first few descriptors takes each number up to NUMBERS_UP_TO.
Before descriptors passed to the runner started at 10, a status socket on fd 9 was replaced by
the wrapper shell's seccomp program: the runner died with EBADF before the script started, and
on a busy worker the job ended "no samples" (or with ECONNRESET, the gate's byte unread).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SCRIPTS

pytestmark = pytest.mark.slow

NUMBERS_UP_TO = 9  # bwrap's seccomp descriptor in the wrapper shell is 9 (single digits in sh)
LOWEST_FREE = range(3, NUMBERS_UP_TO + 1)
CHILD_TIMEOUT_S = 60
ONE_RUN = """
import json, os, sys
from pathlib import Path
from webapp.profiling import RunOptions, run_script
from webapp.profiling.sandbox import SandboxLimits, choose_launcher

lowest_free, job_dir, script = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
launcher, warning = choose_launcher("bwrap", SandboxLimits())
assert warning is None, warning
open_now = sorted(int(name) for name in os.listdir("/proc/self/fd"))
assert max(open_now) < 40, open_now  # os.listdir's own descriptor is among them
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(3, 40)]
for fd in held:
    if fd >= lowest_free:
        os.close(fd)
result = run_script(script, RunOptions(duration_s=10), job_dir, python=launcher.python, launcher=launcher)
print(json.dumps({"status": result.outcome.status, "message": result.outcome.message,
                  "log": result.profiler_log[-400:], "stderr": result.stderr_path.read_text()[-400:]}))
"""


def test_a_run_finishes_with_samples_whichever_small_descriptor_numbers_are_free(new_job_dir):
    failed = {}
    for lowest_free in LOWEST_FREE:
        job_dir = new_job_dir(f"lowest-free-{lowest_free}")
        child = subprocess.run([sys.executable, "-c", ONE_RUN, str(lowest_free), str(job_dir),
                                str(SCRIPTS / "normal.py")],
                               capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                               cwd=Path(__file__).resolve().parents[2])
        assert child.returncode == 0, child.stderr
        run = json.loads(child.stdout.splitlines()[-1])
        if run["status"] != "finished":
            failed[lowest_free] = run
    assert not failed, failed
