"""Two stored script reports whose profiles differ in a known way, for the compare tests."""

from __future__ import annotations

from webapp import pipeline
from webapp.analysis import design_effects, static_metrics, summarize
from webapp.profiles import Frame, Profile
from webapp.store import DONE, SCRIPT
from webapp.store.lifecycle import insert_finished

SCRIPT_NAME = "app.py"
BASE_SOURCE = "def main():\n    hot()\n\n\ndef hot():\n    pass\n\n\ndef steady():\n    pass\n\n\ndef gone():\n    pass\n"
HEAD_SOURCE = ("def main():\n    hot()\n\n\ndef hot():\n    if 1:\n        pass\n\n\ndef steady():\n    pass\n\n\n"
               "def fresh():\n    pass\n")
OPTIONS = {"duration_s": 5, "rate_hz": 100, "idle": False, "gil": False, "native": False,
           "subprocesses": False, "nonblocking": False, "args": []}


def synthetic_profile(counts: dict[str, int], name: str = SCRIPT_NAME, worker_samples: int = 0) -> Profile:
    """main -> each function, ``counts`` samples each, interleaved as in a real run (a short pattern
    repeated 100 times), so that no stretch of the run is all one function."""
    profile = Profile(name=name, interval_s=0.01)
    thread = profile.add_thread("MainThread", tid=1)
    main = profile.intern_frame(Frame("main", SCRIPT_NAME, 1))
    lines = {"hot": 5, "steady": 9, "gone": 13, "fresh": 14}
    for _ in range(100):
        for function, count in counts.items():
            leaf = profile.intern_frame(Frame(function, SCRIPT_NAME, lines[function]))
            thread.append(profile.intern_stack((main, leaf)), count // 100)
    if worker_samples:  # a second thread, "worker", spinning in run -> spin all the time
        worker = profile.add_thread("worker", tid=2)
        run, spin = profile.intern_frame(Frame("run", SCRIPT_NAME, 20)), profile.intern_frame(Frame("spin", SCRIPT_NAME, 24))
        worker.append(profile.intern_stack((run, spin)), worker_samples)
    return profile


def store_script_report(store, profile: Profile, source: str, options: dict | None = None,
                        baseline_token: str | None = None, with_design_effects: bool = True):
    """A finished script report with this profile, as the worker would have stored it."""
    summary = {"script_name": SCRIPT_NAME, "kind": "run", "static_metrics": static_metrics(source, SCRIPT_NAME),
               "options": options or OPTIONS} | summarize(profile)
    summary["outcome"] = {"status": "finished", "exit_code": 0, "message": "The script finished normally."}
    if with_design_effects:  # as the pipeline keeps them; reports made before it did have none
        summary[design_effects.SUMMARY_KEY] = design_effects.summary_entry(profile, summary["hot_functions"])
    with store.writing() as session:
        return insert_finished(
            session, kind=SCRIPT, status=DONE, script_name=SCRIPT_NAME, options=options or OPTIONS,
            outcome=summary["outcome"], summary=summary,
            artifacts=pipeline.render_artifacts(profile, pipeline.plain_artifact, SCRIPT_NAME), baseline_token=baseline_token,
        )


def store_pair(store, head_options: dict | None = None, head_runs: int = 1, worker_samples: int = 0,
               with_design_effects: bool = True):
    """(base, head): hot 20 % -> 40 %, steady 30 % -> 30 %, gone 50 % -> 0, fresh 0 -> 30 %; 1000 samples
    in base, 1000 x ``head_runs`` in head (a longer head run: the same shares, more time); and a
    "worker" thread with ``worker_samples`` (x ``head_runs`` in head) when asked for."""
    base = store_script_report(store, synthetic_profile({"hot": 200, "steady": 300, "gone": 500},
                                                        worker_samples=worker_samples), BASE_SOURCE,
                               with_design_effects=with_design_effects)
    head_counts = {"hot": 400 * head_runs, "steady": 300 * head_runs, "fresh": 300 * head_runs}
    head = store_script_report(store, synthetic_profile(head_counts, worker_samples=worker_samples * head_runs),
                               HEAD_SOURCE, head_options, with_design_effects=with_design_effects)
    return base, head
