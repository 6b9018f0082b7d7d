"""The .speedscope.json a report offers holds at least what py-spy's own file of the same run holds.

A real run through the pipeline (the CLI's path): py-spy writes its file into the job
directory, the pipeline turns it into the report's download. Compared frame by frame
and sample by sample, after the two changes the report makes on purpose: the runner's
frames (the small program that starts the script and records how it ended) are cut off,
and the script's frames name the script instead of the server's scratch path.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from webapp import pipeline
from webapp.profiling import RunOptions, runner_frame_count

SCRIPT = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "threads.py"
PROCESS_PREFIX = re.compile(r"^Process \d+ ")  # py-spy's, present only when it followed subprocesses


def timeline(document: dict, profile: dict, interval: float) -> list[tuple[tuple[str, str, int], ...]]:
    """One profile of a speedscope file as its samples in time order, each a stack of frames;
    a weight of k intervals is k samples (ours merges runs of one stack, py-spy does not)."""
    frames = [(f["name"], f.get("file") or "", f.get("line") or 0) for f in document["shared"]["frames"]]
    samples = []
    for stack, weight in zip(profile["samples"], profile["weights"]):
        samples += [tuple(frames[i] for i in stack)] * round(weight / interval)
    return samples


def as_the_report_shows(stack, script_path: str, script_name: str):
    """py-spy's stack without the runner's frames and with the script named; None: not the script's."""
    stack = [frame for frame in stack if not frame[0].startswith("process ")]  # py-spy's process roots
    cut = runner_frame_count([file for _, file, _ in stack], script_path)
    if cut is None or cut == len(stack):
        return None
    return tuple((name, script_name if file == script_path else file, line) for name, file, line in stack[cut:])


@pytest.mark.slow
def test_the_download_holds_everything_pyspy_recorded(tmp_path, speedscope_validator):
    script = tmp_path / "threads.py"
    shutil.copy(SCRIPT, script)
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    report = pipeline.profile_script(script, RunOptions(duration_s=20, rate_hz=100, coverage=False), job_dir)
    assert report.produced_profile, report.summary["outcome"]
    [pyspy_file] = [p for p in job_dir.rglob("*.speedscope.json")]  # py-spy's own, left in the job dir
    theirs = json.loads(pyspy_file.read_bytes())
    ours = json.loads(report.artifacts["profile.speedscope.json"])
    speedscope_validator.validate(ours)

    # every thread, in py-spy's order and named as py-spy names it; the merged profile last
    real = ours["profiles"][:-1]
    assert [p["name"] for p in real] == [PROCESS_PREFIX.sub("", p["name"]) for p in theirs["profiles"]]
    assert ours["profiles"][-1]["name"] == "All threads"
    assert ours["activeProfileIndex"] == 0  # speedscope opens on the first real thread
    assert len(real) >= 2 and all(re.fullmatch(r'Thread \d+ ".*"', p["name"]) for p in real)

    # the same samples per thread, in the same order, with py-spy's line-level frames
    script_path = str(script.resolve())
    interval = min(w for p in theirs["profiles"] for w in p["weights"])  # py-spy: one sample, one weight
    their_frames, our_frames = set(), set()
    for mine, pyspys in zip(real, theirs["profiles"]):
        expected = [s for s in (as_the_report_shows(stack, script_path, "threads.py")
                                for stack in timeline(theirs, pyspys, interval)) if s is not None]
        got = timeline(ours, mine, interval)
        assert got == expected, mine["name"]
        assert len(got) == sum(1 for _ in expected)  # per-thread sample counts equal
        their_frames.update(frame for stack in expected for frame in stack)
        our_frames.update(frame for stack in got for frame in stack)
    assert their_frames <= our_frames
    spin_lines = {line for name, file, line in our_frames if (name, file) == ("spin", "threads.py")}
    assert len(spin_lines) > 1, "line-level frames: spin() is sampled on more than one line"

    # the function-level file: one frame per function, at its definition line
    functions = json.loads(report.artifacts["profile.functions.speedscope.json"])
    speedscope_validator.validate(functions)
    spin = [f for f in functions["shared"]["frames"] if (f["name"], f.get("file")) == ("spin", "threads.py")]
    assert spin == [{"name": "spin", "file": "threads.py", "line": 6}]


@pytest.mark.slow
def test_the_page_flamegraph_groups_by_the_lines_pyspy_sampled(tmp_path):
    script = tmp_path / "threads.py"
    shutil.copy(SCRIPT, script)
    report = pipeline.profile_script(script, RunOptions(duration_s=20, rate_hz=100, coverage=False), tmp_path)
    flame = json.loads(report.artifacts["flame.json"])
    names, files, lines = flame["frames"]["name"], flame["frames"]["file"], flame["frames"]["line"]

    def spin_lines(level: str) -> set[int]:
        return {lines[f] for f in flame["trees"][level]["frame"][1:]
                if names[f] == "spin" and flame["files"][files[f]] == "threads.py"}

    assert len(spin_lines("line")) > 1 and spin_lines("line") <= {7, 8, 9, 10}
    assert spin_lines("function") == {6}  # grouped by function: the def line
    defined = [flame["frames"]["defined"][f] for f in range(len(names)) if names[f] == "spin"]
    assert defined and all(defined)
