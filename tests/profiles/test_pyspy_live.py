"""The installed py-spy, right now: what it writes, we read, export and read back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.profiles import get_exporter, load_profile

PY_SPY = Path(sys.executable).with_name("py-spy")
SCRIPT = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "threads.py"
RECORD_TIMEOUT_S = 60


@pytest.mark.slow
def test_a_fresh_pyspy_recording_reads_exports_and_round_trips(tmp_path, thread_runs, speedscope_validator):
    if not PY_SPY.exists():
        pytest.skip(f"py-spy is not installed next to {sys.executable}")
    output = tmp_path / "threads.speedscope.json"
    subprocess.run(
        [str(PY_SPY), "record", "--format", "speedscope", "-o", str(output), "-r", "100", "--",
         sys.executable, str(SCRIPT)],
        check=True, capture_output=True, timeout=RECORD_TIMEOUT_S,
    )
    profile = load_profile(output.read_bytes(), output.name)
    # py-spy does not always learn a thread's name in time; then the id stands in
    assert len(profile.threads) >= 2
    assert all(re.fullmatch(r"MainThread|worker-\d|Thread \d+", t.display_name) for t in profile.threads)
    functions = {frame.name for frame in profile.frames if frame.file == str(SCRIPT)}
    assert {"spin", "worker", "<module>"} <= functions
    assert profile.sample_count >= 20

    exported = get_exporter("speedscope").render(profile)
    speedscope_validator.validate(json.loads(exported))
    assert thread_runs(load_profile(exported)) == thread_runs(profile)
    functions = get_exporter("speedscope", line_level=False).render(profile)
    speedscope_validator.validate(json.loads(functions))
    assert thread_runs(load_profile(functions)) == thread_runs(profile.function_level())
