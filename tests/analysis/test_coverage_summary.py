"""The coverage run's report is written inside the sandbox: read as untrusted input, summarised by type."""

from __future__ import annotations

import json

from webapp.analysis.coverage_summary import summarize_coverage
from webapp.profiling.coverage_run import read_report


def test_a_report_the_script_tampered_with_is_refused_with_a_reason(tmp_path):
    out = tmp_path / "coverage-out.json"
    out.write_bytes(b"")
    assert read_report(out, 1000) == (None, "the coverage run ended before coverage.py wrote its report")
    out.write_text("x" * 2000)
    assert "larger than 1,000 bytes" in read_report(out, 1000)[1]
    for tampered in ("not json", "[1, 2]", '{"json": {"files": []}, "lcov": ""}', '{"json": {"files": {}}, "lcov": 3}'):
        out.write_text(tampered)
        assert read_report(out, 1000)[0] is None
    out.write_text('{"error": "No data to report."}')
    assert read_report(out, 1000) == (None, "coverage.py said: No data to report.")


def test_the_summary_keeps_the_users_files_and_only_well_typed_figures(tmp_path):
    report = {"files": {
        "/job/app.py": {
            "summary": {"covered_lines": 8, "num_statements": 10, "covered_branches": 1, "num_branches": 4},
            "executed_lines": [1, 2, "3", True, -4, 5], "missing_lines": [9, 10],
            "functions": {"work": {"summary": {"covered_lines": 3, "num_statements": 3, "num_branches": 0}},
                          "": {}, "bad": "nope"},
        },
        "/usr/lib/python3.11/json/decoder.py": {"summary": {"covered_lines": 5, "num_statements": 5}},
        "/job/evil.py": {"summary": {"covered_lines": "all", "num_statements": -1}},
    }}
    names = {"/job/app.py": "app.py", "/job/evil.py": "evil.py"}
    summary = summarize_coverage(json.loads(json.dumps(report)), names.get)
    app = summary["files"]["app.py"]
    assert (app["line_pct"], app["branch_pct"]) == (80.0, 25.0)
    assert app["executed_lines"] == [1, 2, 5] and app["missing_lines"] == [9, 10]
    assert app["functions"] == {"work": {"line_pct": 100.0, "branch_pct": None}}
    assert summary["files"]["evil.py"] == {"line_pct": None, "branch_pct": None, "executed_lines": [],
                                           "missing_lines": [], "functions": {}}
    assert set(summary["files"]) == {"app.py", "evil.py"}  # the stdlib file is not the user's
    assert (summary["line_pct"], summary["branch_pct"]) == (80.0, 25.0)
