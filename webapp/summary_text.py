"""The plain-text summary of a report that ``flamedeck profile`` prints."""

from __future__ import annotations

from typing import Any

from webapp.units import human_size

TOP_FUNCTIONS_SHOWN = 10
FIRST_SAMPLED_MARK = "*"


def format_summary(summary: dict[str, Any]) -> str:
    """Render report.json as the terminal summary."""
    lines: list[str] = []
    static = summary.get("static_metrics")
    if static is not None:
        lines += _static_lines(summary.get("script_name", "script"), static)
    lines += _runtime_lines(summary)
    lines += _coverage_lines(summary.get("coverage"))
    outcome = summary.get("outcome") or {}
    lines.append(f"Outcome: {outcome.get('message', 'unknown')}")
    return "\n".join(lines)


def _static_lines(script_name: str, static: dict[str, Any]) -> list[str]:
    lines = [f"=== Static metrics: {script_name} ==="]
    error = static.get("error")
    if error:
        lines.append(f"Could not analyse the source: {error['message']}")
    fields = [
        ("File size", human_size(static["file_size_bytes"]) if static.get("file_size_bytes") is not None else None, ""),
        ("Lines of code", static.get("lines_of_code"), ""),
        ("Functions", static.get("functions"), ""),
        ("Classes", static.get("classes"), ""),
        ("Imports", static.get("imports"), ""),
        ("Complexity score", static.get("complexity_score"), ""),
        ("Maintainability", static.get("maintainability_index"), ""),
    ]
    lines.append("  ".join(f"{label}: {value}{unit}" for label, value, unit in fields if value is not None))
    return lines


def _runtime_lines(summary: dict[str, Any]) -> list[str]:
    options = summary.get("options") or {}
    if options:
        heading = f"=== Runtime profile (py-spy, {options.get('rate_hz')} Hz, {summary.get('duration_s', 0):.1f} s) ==="
    else:
        heading = f"=== Imported profile ({summary.get('duration_s', 0):.1f} s) ==="
    lines = [heading]
    lines.append(f"Total samples: {summary.get('total_samples', 0)}  Unique functions: {summary.get('unique_functions', 0)}")
    threads = summary.get("threads") or []
    if len(threads) > 1:
        labels = (f"{t.get('process', '')} {t['name']}".strip() for t in threads)
        lines.append("Threads: " + ", ".join(f"{label} ({t['samples']})" for label, t in zip(labels, threads)))
    hot = (summary.get("hot_functions") or [])[:TOP_FUNCTIONS_SHOWN]
    if hot:
        lines.append(f"Top {len(hot)} hot functions (self / total):")
        width = max(len(f["name"]) for f in hot)
        for rank, function in enumerate(hot, start=1):
            where = f"{_short_file(function['file'])}:{function['line']}{_line_mark(function)}"
            lines.append(
                f"  {rank:>2}. {function['name']:<{width}}  {where:<32} "
                f"{function['self_percent']:5.1f} %  {function['total_percent']:5.1f} %"
            )
        if any(_line_mark(function) for function in hot):
            lines.append(f"  {FIRST_SAMPLED_MARK} first sampled line: no source for that file, so not its definition line")
    return lines


def _line_mark(function: dict[str, Any]) -> str:
    """A mark after a line that is only the first one sampled (older summaries say nothing)."""
    return FIRST_SAMPLED_MARK if function.get("line_is_definition") is False and function.get("line") else ""


def _short_file(path: str) -> str:
    """The last two path parts: enough to recognise a file in a terminal."""
    parts = path.replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if len(parts) > 2 else path


def _coverage_lines(coverage: dict[str, Any] | None) -> list[str]:
    """Line and branch coverage, per file when there are several."""
    if not coverage:
        return []
    lines = ["=== Coverage (coverage.py, a separate run after the profiled one) ==="]
    if coverage.get("error"):
        return [*lines, coverage["error"]]
    lines.append(f"Lines: {_percent(coverage.get('line_pct'))}  Branches: {_percent(coverage.get('branch_pct'))}")
    files = coverage.get("files") or {}
    if len(files) > 1:
        for name, figures in files.items():
            lines.append(f"  {name}: lines {_percent(figures.get('line_pct'))}, "
                         f"branches {_percent(figures.get('branch_pct'))}")
    return lines


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"
