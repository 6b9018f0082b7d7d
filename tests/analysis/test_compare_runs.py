"""Real py-spy runs of one deterministic script: the comparison flags (almost) nothing."""

from __future__ import annotations

import itertools

import pytest

from webapp import pipeline
from webapp.analysis.compare import compare_profiles
from webapp.profiles import load_profile
from webapp.profiling import RunOptions

FUNCTIONS = 40
# Each function does a fixed amount of work, its own amount, called in a fixed order: the
# share of each is the same in every run, so every difference between two runs is noise.
SCRIPT = "\n".join(
    [f"def work_{i}():\n    total = 0\n    for k in range({2000 + 150 * i}):\n        total += k * k\n    return total\n"
     for i in range(FUNCTIONS)]
    + ["def main():\n    for _ in range(300):\n" + "".join(f"        work_{i}()\n" for i in range(FUNCTIONS)),
       "main()\n"]
)


@pytest.mark.slow
def test_runs_of_one_deterministic_script_flag_about_5_percent_of_functions_at_most(tmp_path):
    script = tmp_path / "deterministic.py"
    script.write_text(SCRIPT)
    profiles = []
    for run in ("first", "second", "third"):
        job = tmp_path / run
        job.mkdir()
        report = pipeline.profile_script(script, RunOptions.from_strings({"duration": "30", "rate": "250", "coverage": "off"}), job)
        assert report.produced_profile, report.summary["outcome"]
        data = report.artifacts["profile.functions.speedscope.json"]
        profiles.append(load_profile(data, "profile.functions.speedscope.json"))
    # A rate needs more than one pair to measure: the three pairs of three runs.
    compared = flagged = 0
    flagged_names = []
    for base, head in itertools.combinations(profiles, 2):
        comparison = compare_profiles(base, head)
        work_rows = [row for row in comparison.rows if row.name.startswith("work_")]
        assert len(work_rows) >= FUNCTIONS * 0.9, "the run is too short to compare its functions"
        assert min(comparison.base_samples, comparison.head_samples) > 200
        compared += len(comparison.rows)
        significant = [row for row in comparison.rows if row.significant]
        flagged += len(significant)
        flagged_names += [f"{row.name} {row.self_change_points:+.2f}" for row in significant]
    assert flagged / compared <= 0.05, f"{flagged} of {compared} flagged: " + ", ".join(flagged_names)
