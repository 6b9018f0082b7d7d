"""Statistics of a Profile and static metrics of a source file; no Flask, no database."""

from webapp.analysis.definitions import attach_definition_lines
from webapp.analysis.project_metrics import project_complexity, project_metrics
from webapp.analysis.static_metrics import complexity_with_runtime, static_metrics
from webapp.analysis.stats import (
    FunctionStat,
    LineStat,
    function_stats,
    line_stats,
    summarize,
    thread_stats,
)

__all__ = [
    "FunctionStat",
    "LineStat",
    "attach_definition_lines",
    "complexity_with_runtime",
    "function_stats",
    "line_stats",
    "project_complexity",
    "project_metrics",
    "static_metrics",
    "summarize",
    "thread_stats",
]
