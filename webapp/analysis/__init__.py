"""Statistics of a Profile and static metrics of a source file; no Flask, no database."""

from webapp.analysis.definitions import attach_definition_lines
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
    "static_metrics",
    "summarize",
    "thread_stats",
]
