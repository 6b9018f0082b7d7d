"""Static metrics of one Python source file, with radon and ``ast``.

What each number means (the report shows them under these names):

* ``file_size_bytes`` - size of the source encoded as UTF-8;
* ``lines_of_code``, ``sloc``, ``comments``, ``blank`` - radon's raw metrics
  ``loc``, ``sloc``, ``comments`` (every line holding a ``#`` comment, inline
  ones included) and ``blank``; docstrings are neither SLOC nor comments;
* ``functions`` - every ``def`` and ``async def``: methods and nested
  functions included, lambdas not;
* ``classes`` - every ``class`` statement, nested ones included;
* ``imports`` - the number of ``import`` / ``from ... import`` *statements*
  (``import os, sys`` is one), wherever they stand;
* ``complexity_score`` - the sum of radon's cyclomatic complexity over every
  function in ``function_complexity``;
* ``maintainability_index`` - radon's MI (0-100, higher is easier), 1 decimal;
* ``function_complexity`` - one entry per function, sorted by line:
  ``name`` is Python's ``__qualname__`` (``Class.method``,
  ``outer.<locals>.inner``), which is also what py-spy reports on Python 3.11+;
* ``error`` - ``None``, or ``{"message", "line"}`` when the source does not
  parse (``line`` is ``None`` when Python names no line, e.g. for null
  bytes). The numbers that need a parse are then ``None`` and
  ``function_complexity`` is empty; the raw line counts stay when radon's
  tokenizer could still read the file.
"""

from __future__ import annotations

import ast
from typing import Any

from radon.complexity import cc_rank
from radon.metrics import mi_visit
from radon.raw import analyze
from radon.visitors import ComplexityVisitor

from webapp.analysis.scopes import FUNCTION, code_scopes, matching_scope

_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)


def _raw_counts(source: str) -> dict[str, int | None]:
    """radon's raw line counts, or ``None`` for each when it cannot tokenize."""
    try:
        raw = analyze(source)
    except (SyntaxError, ValueError, RecursionError):
        return {"lines_of_code": None, "sloc": None, "comments": None, "blank": None}
    return {
        "lines_of_code": raw.loc,
        "sloc": raw.sloc,
        "comments": raw.comments,
        "blank": raw.blank,
    }


def _too_deep(filename: str) -> dict[str, Any]:
    return {
        "message": f"{filename} is nested too deeply to analyse; static metrics were skipped.",
        "line": None,
    }


def parse_source(source: str, filename: str) -> tuple[ast.Module | None, dict | None]:
    """The parsed module, or a user-facing error with the offending line."""
    try:
        return ast.parse(source, filename=filename), None
    except SyntaxError as exc:
        line = exc.lineno or None  # Python gives no line for e.g. null bytes
        where = f" on line {line}" if line else ""
        reason = (exc.msg or "invalid syntax").rstrip(".")
        end = "" if reason.endswith(("?", "!")) else "."
        message = (
            f"{filename} has a syntax error{where}: {reason}{end} "
            "Static metrics need valid Python; fix the error and profile again."
        )
        return None, {"message": message, "line": line}
    except (RecursionError, MemoryError):
        return None, _too_deep(filename)
    except ValueError as exc:  # e.g. null bytes, on Pythons that do not call it a SyntaxError
        message = f"{filename} could not be parsed: {exc}. Static metrics need Python source."
        return None, {"message": message, "line": None}


def _complexity_of(node: ast.AST) -> int:
    """radon's cyclomatic complexity of one function (nested functions excluded)."""
    visitor = ComplexityVisitor()
    visitor.visit(node)
    return visitor.functions[0].complexity


def _function_complexity(tree: ast.Module) -> list[dict[str, Any]]:
    """One entry per function: qualified name, line range, complexity and rank."""
    entries = []
    for scope in code_scopes(tree):
        if scope.kind != FUNCTION:
            continue
        complexity = _complexity_of(scope.node)
        entries.append(
            {
                "name": scope.qualname,
                "line": scope.line,
                "end_line": scope.end_line,
                "complexity": complexity,
                "rank": cc_rank(complexity),
            }
        )
    entries.sort(key=lambda entry: (entry["line"], entry["name"]))
    return entries


def static_metrics(source: str, filename: str) -> dict[str, Any]:
    """Size, line counts, definitions, complexity and maintainability of ``source``."""
    metrics: dict[str, Any] = {
        "file_size_bytes": len(source.encode("utf-8", errors="surrogatepass")),
        **_raw_counts(source),
        "functions": None,
        "classes": None,
        "imports": None,
        "complexity_score": None,
        "maintainability_index": None,
        "function_complexity": [],
        "error": None,
    }
    tree, error = parse_source(source, filename)
    if tree is None:
        metrics["error"] = error
        return metrics
    try:
        function_complexity = _function_complexity(tree)
        maintainability = round(mi_visit(source, multi=True), 1)
    except RecursionError:
        metrics["error"] = _too_deep(filename)
        return metrics
    nodes = list(ast.walk(tree))
    metrics.update(
        functions=sum(isinstance(node, _FUNCTION_NODES) for node in nodes),
        classes=sum(isinstance(node, ast.ClassDef) for node in nodes),
        imports=sum(isinstance(node, (ast.Import, ast.ImportFrom)) for node in nodes),
        complexity_score=sum(entry["complexity"] for entry in function_complexity),
        maintainability_index=maintainability,
        function_complexity=function_complexity,
    )
    return metrics


# -- joining static complexity with runtime shares ------------------------------


def _same_file(frame_file: str, script_file: str) -> bool:
    """True when a sampled frame's file is the script; a bare name matches any directory."""
    if frame_file == script_file:
        return True
    return "/" not in script_file and frame_file.rsplit("/", 1)[-1] == script_file


def _matching_function(hot: dict[str, Any], functions: list[dict[str, Any]]) -> int | None:
    """Index of the static function a sampled function is, or ``None`` (see ``matching_scope``)."""
    spans = [(f["name"], f["line"], f["end_line"]) for f in functions]
    line = hot.get("line") or 0
    return matching_scope(hot["name"], [line] if line else [], spans)


def runtime_of_functions(
    functions: list[dict[str, Any]], hot_functions: list[dict[str, Any]], script_file: str
) -> dict[int, dict[str, Any]]:
    """Index in ``functions`` (static ``function_complexity`` entries) -> the sampled
    function (a ``hot_functions`` entry) it is; functions never sampled are left out."""
    runtime: dict[int, dict[str, Any]] = {}
    for hot in hot_functions:
        if not _same_file(hot.get("file", ""), script_file):
            continue
        index = _matching_function(hot, functions)
        if index is not None and index not in runtime:
            runtime[index] = hot
    return runtime


def complexity_with_runtime(
    static: dict[str, Any], hot_functions: list[dict[str, Any]], script_file: str
) -> list[dict[str, Any]]:
    """Each function of the script with its complexity, rank and runtime shares.

    ``hot_functions`` are ``summarize()["hot_functions"]`` entries (pass them
    all, not only the top ones); ``script_file`` is the script's path as it
    appears in the profile's frames, or its bare file name. Functions never
    sampled get 0. Two same-named functions of one file share one runtime
    identity (name, file), so only the one holding the sampled line gets it.
    """
    functions = static.get("function_complexity") or []
    runtime = runtime_of_functions(functions, hot_functions, script_file)
    rows = []
    for index, function in enumerate(functions):
        hot = runtime.get(index, {})
        rows.append(
            {
                **function,
                "self_samples": hot.get("self_samples", 0),
                "total_samples": hot.get("total_samples", 0),
                "self_percent": hot.get("self_percent", 0.0),
                "total_percent": hot.get("total_percent", 0.0),
            }
        )
    return rows
