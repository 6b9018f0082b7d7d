"""Line and branch coverage per file and per function, from coverage.py's JSON report.

The report is read as untrusted input (the script ran in the same sandbox as the
runner that wrote it), so every value is checked for its type and only what the
page needs is kept: per file the executed and never-executed line numbers and the
percentages, per function its percentages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_FILES = 2000  # more files in a report are not summarised
MAX_FUNCTIONS = 10_000  # per file; the report is written inside the sandbox, so it is capped like any upload
MAX_LINE_NUMBERS = 1_000_000  # per list of a file


def summarize_coverage(report: dict, file_name: Callable[[str], str | None]) -> dict[str, Any]:
    """``{"files": {name: {...}}, "line_pct", "branch_pct"}``; ``file_name`` maps coverage.py's
    file names to the report's names (None: not one of the user's files)."""
    files: dict[str, Any] = {}
    lines = [0, 0]
    branches = [0, 0]
    for raw_name, entry in list(report.get("files", {}).items())[:MAX_FILES]:
        name = file_name(str(raw_name))
        if name is None or not isinstance(entry, dict):
            continue
        summary = _figures(entry.get("summary"))
        functions = {}
        raw_functions = entry.get("functions")
        if isinstance(raw_functions, dict):
            for qualname, function in list(raw_functions.items())[:MAX_FUNCTIONS]:
                if qualname and isinstance(function, dict):
                    functions[str(qualname)] = _percentages(_figures(function.get("summary")))
        files[name] = {
            **_percentages(summary),
            "executed_lines": _line_numbers(entry.get("executed_lines")),
            "missing_lines": _line_numbers(entry.get("missing_lines")),
            "functions": functions,
        }
        lines[0] += summary["covered_lines"]
        lines[1] += summary["num_statements"]
        branches[0] += summary["covered_branches"]
        branches[1] += summary["num_branches"]
    return {"files": files, "line_pct": _pct(*lines), "branch_pct": _pct(*branches)}


def _figures(raw: Any) -> dict[str, int]:
    raw = raw if isinstance(raw, dict) else {}
    keys = ("covered_lines", "num_statements", "covered_branches", "num_branches")
    return {key: raw[key] if isinstance(raw.get(key), int) and raw[key] >= 0 else 0 for key in keys}


def _percentages(figures: dict[str, int]) -> dict[str, float | None]:
    return {"line_pct": _pct(figures["covered_lines"], figures["num_statements"]),
            "branch_pct": _pct(figures["covered_branches"], figures["num_branches"])}


def _pct(covered: int, total: int) -> float | None:
    """None when there is nothing to cover (a file without branches has no branch coverage)."""
    return round(100.0 * min(covered, total) / total, 1) if total else None


def _line_numbers(raw: Any) -> list[int]:
    if not isinstance(raw, list):
        return []
    return sorted({n for n in raw[:MAX_LINE_NUMBERS] if isinstance(n, int) and not isinstance(n, bool) and 0 < n < 10_000_000})
