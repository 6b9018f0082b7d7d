"""py-spy's modes reach py-spy, and the runner's frames can be told from the script's."""

from __future__ import annotations

from pathlib import Path

from webapp.profiling import RUNNER_PATH, RunOptions, runner_frame_count

from .helpers import load_profile, script_samples

SCRIPT = "/jobs/abc/script.py"


def test_idle_mode_samples_a_sleeping_script(run):
    result = run("sleeps.py", RunOptions(idle=True, args=["0.6"]))
    assert script_samples(result) > 30  # about 60 at 100 Hz; without idle mode it is a handful


def test_subprocesses_mode_profiles_the_children_too(run):
    result = run("spawns.py", RunOptions(subprocesses=True))
    assert script_samples(result, function="child_work") > 10


def test_without_subprocesses_mode_the_children_are_not_profiled(run):
    result = run("spawns.py", RunOptions())
    # The parent only waits for its child, so py-spy may well have taken no sample at all.
    assert result.outcome.status in ("finished", "no_samples"), result.outcome
    assert result.outcome.exit_code == 0
    assert script_samples(result, function="child_work") == 0


def test_runner_frames_are_cut_from_the_script_samples():
    assert runner_frame_count([RUNNER_PATH, RUNNER_PATH, RUNNER_PATH, SCRIPT, "/lib/json.py"], SCRIPT) == 3
    assert runner_frame_count(["/usr/lib/python3.11/threading.py", SCRIPT], SCRIPT) == 0
    assert runner_frame_count([], SCRIPT) == 0


def test_samples_of_the_runner_at_work_are_dropped():
    assert runner_frame_count([RUNNER_PATH, "<frozen importlib._bootstrap>"], SCRIPT) is None
    assert runner_frame_count([RUNNER_PATH, RUNNER_PATH], SCRIPT) is None


def test_samples_of_the_interpreter_starting_up_are_dropped():
    startup = ["<frozen importlib._bootstrap>", "<frozen site>", "/venv/lib/python3.11/site-packages/x.pth"]
    assert runner_frame_count(startup, SCRIPT) is None
    assert runner_frame_count(["/usr/lib/python3.9/site.py", "/usr/lib/python3.9/os.py"], SCRIPT) is None
    assert runner_frame_count(["<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>"], SCRIPT) is None


def test_every_main_thread_sample_of_a_real_run_leads_to_the_script(run):
    result = run("busy.py")
    profile = load_profile(result)
    files = [frame["file"] for frame in profile["shared"]["frames"]]
    cuts = [
        runner_frame_count([files[index] for index in stack], result.script_path)
        for thread in profile["profiles"]
        for stack in thread["samples"]
        if stack
    ]
    kept = [cut for cut in cuts if cut is not None]
    assert len(kept) > 20 and set(kept) == {3}  # <module>, main, _run
    assert Path(RUNNER_PATH).name == "runner.py"
