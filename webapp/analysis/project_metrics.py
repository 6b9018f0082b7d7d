"""Static metrics of a project: each .py file's, and their totals, in the single-file shape."""

from __future__ import annotations

from typing import Any

from webapp.analysis.static_metrics import complexity_with_runtime, static_metrics

SUMMED = ("file_size_bytes", "lines_of_code", "sloc", "comments", "blank", "functions", "classes", "imports",
          "complexity_score")


def project_metrics(sources: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one row per file with its "file", totals) for ``sources`` (project path -> text).

    Totals add the counts up; the maintainability index, which does not add, is the
    mean of the files' weighted by their source lines; ``error`` is the first file's
    that could not be analysed."""
    rows = [{"file": path, **static_metrics(text, path)} for path, text in sorted(sources.items())]
    totals: dict[str, Any] = {key: sum(row.get(key) or 0 for row in rows) for key in SUMMED}
    analysed = [row for row in rows if row.get("maintainability_index") is not None]
    weight = sum(max(row.get("sloc") or 0, 1) for row in analysed)
    totals["maintainability_index"] = (
        round(sum(row["maintainability_index"] * max(row.get("sloc") or 0, 1) for row in analysed) / weight, 1)
        if analysed else None
    )
    totals["function_complexity"] = []
    totals["error"] = next((row["error"] for row in rows if row.get("error")), None)
    totals["files"] = len(rows)
    return rows, totals


def project_complexity(rows: list[dict[str, Any]], hot_functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every function of every file with its complexity and runtime share, each naming its file."""
    joined = []
    for row in rows:
        for entry in complexity_with_runtime(row, hot_functions, row["file"]):
            joined.append({**entry, "file": row["file"]})
    return joined
