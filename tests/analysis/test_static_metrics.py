"""Static metrics of a source file, and their join with runtime shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.analysis.static_metrics import complexity_with_runtime, static_metrics

SAMPLE = Path(__file__).parent / "fixtures" / "metrics_sample.py"


@pytest.fixture(scope="module")
def sample_metrics() -> dict:
    return static_metrics(SAMPLE.read_text(encoding="utf-8"), "metrics_sample.py")


def test_line_counts_of_the_fixture(sample_metrics):
    # Counted by hand in fixtures/metrics_sample.py (54 lines):
    #   blank lines: 2 9 11 12 23 24 27 30 34 38 42 43 46 49 51 52        -> 16
    #   comment lines: 10 (inline comment) and 14 (full-line comment)     -> 2
    #   docstring lines: 1 and 26; radon counts them neither SLOC nor comment
    #   sloc = 54 - 16 blank - 1 comment-only line (14) - 2 docstring lines -> 35
    assert sample_metrics["error"] is None
    assert sample_metrics["lines_of_code"] == 54
    assert sample_metrics["blank"] == 16
    assert sample_metrics["comments"] == 2
    assert sample_metrics["sloc"] == 35
    assert sample_metrics["file_size_bytes"] == SAMPLE.stat().st_size


def test_definition_counts_of_the_fixture(sample_metrics):
    # functions: classify, __init__, add, drain (async), total (method of a
    #   nested class), outer, inner (nested), _unused                    -> 8
    # classes: Accumulator, Summary (nested)                             -> 2
    # import statements: lines 3, 4 (two names, one statement), 5
    #   (parenthesised, multi-line), 45 (inside a function)               -> 4
    assert sample_metrics["functions"] == 8
    assert sample_metrics["classes"] == 2
    assert sample_metrics["imports"] == 4


def test_function_complexity_of_the_fixture(sample_metrics):
    # Cyclomatic complexity, 1 + one per decision point (radon's rules):
    #   classify: if, elif, for, if, `and`        -> 6 (rank B: 6-10)
    #   add: if -> 2; drain: while -> 2
    #   total: generator + its `if` -> 3
    #   outer: list comprehension -> 2 (inner is not added to outer)
    #   inner: conditional expression -> 2; __init__, _unused -> 1
    rows = [
        (f["name"], f["line"], f["end_line"], f["complexity"], f["rank"])
        for f in sample_metrics["function_complexity"]
    ]
    assert rows == [
        ("classify", 13, 22, 6, "B"),
        ("Accumulator.__init__", 28, 29, 1, "A"),
        ("Accumulator.add", 31, 33, 2, "A"),
        ("Accumulator.drain", 35, 37, 2, "A"),
        ("Accumulator.Summary.total", 40, 41, 3, "A"),
        ("outer", 44, 50, 2, "A"),
        ("outer.<locals>.inner", 47, 48, 2, "A"),
        ("_unused", 53, 54, 1, "A"),
    ]
    assert sample_metrics["complexity_score"] == 6 + 1 + 2 + 2 + 3 + 2 + 2 + 1


def test_maintainability_index_is_radons_rounded_to_one_decimal(sample_metrics):
    mi = sample_metrics["maintainability_index"]
    assert 0 < mi <= 100
    assert mi == round(mi, 1)
    assert mi == 65.0  # radon 6.0.1's value for the fixture (not hand-computed)


def test_syntax_error_is_reported_with_its_line():
    source = "import os\n\ndef broken(:\n    pass\n"
    metrics = static_metrics(source, "broken.py")
    assert metrics["error"]["line"] == 3
    assert "line 3" in metrics["error"]["message"]
    assert "broken.py" in metrics["error"]["message"]
    assert metrics["file_size_bytes"] == len(source)
    for key in ("functions", "classes", "imports", "complexity_score", "maintainability_index"):
        assert metrics[key] is None, key
    assert metrics["function_complexity"] == []


def test_syntax_error_keeps_raw_counts_when_radon_can_tokenize():
    metrics = static_metrics("x = = 1\n\nprint(x)  # shown\n", "typo.py")
    assert metrics["error"]["line"] == 1
    assert (metrics["lines_of_code"], metrics["sloc"], metrics["blank"], metrics["comments"]) == (
        3,
        2,
        1,
        1,
    )


def test_null_bytes_are_an_error_not_a_crash():
    metrics = static_metrics("x = 1\0\n", "binary.py")
    assert metrics["error"]["message"]
    assert metrics["functions"] is None


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 500 + ")" * 500 + "\n",  # too deep for Python's parser
        "def f():\n    return " + "-" * 2000 + "1\n",  # parses, too deep for radon's visitors
    ],
    ids=["parser", "radon"],
)
def test_absurd_nesting_is_an_error_not_a_crash(source):
    metrics = static_metrics(source, "nested.py")
    assert "nested.py" in metrics["error"]["message"]
    assert metrics["complexity_score"] is None and metrics["function_complexity"] == []
    assert metrics["file_size_bytes"] == len(source)


def test_empty_file():
    metrics = static_metrics("", "empty.py")
    assert metrics["error"] is None
    assert metrics["file_size_bytes"] == 0
    assert (metrics["lines_of_code"], metrics["sloc"], metrics["functions"]) == (0, 0, 0)
    assert (metrics["classes"], metrics["imports"], metrics["complexity_score"]) == (0, 0, 0)
    assert metrics["function_complexity"] == []


def test_non_ascii_source_size_is_in_utf8_bytes():
    source = '# Grüße\ndef grüße(name):\n    return f"Hallo {name} 👋"\n'
    metrics = static_metrics(source, "grüße.py")
    assert metrics["error"] is None
    assert metrics["file_size_bytes"] == len(source.encode("utf-8")) > len(source)
    assert metrics["function_complexity"][0]["name"] == "grüße"
    assert metrics["comments"] == 1


# -- complexity beside runtime ----------------------------------------------------

SCRIPT = "/job/metrics_sample.py"


def hot(name, line, self_percent, total_percent, file=SCRIPT):
    return {
        "name": name,
        "file": file,
        "line": line,
        "self_samples": int(self_percent),
        "total_samples": int(total_percent),
        "self_percent": self_percent,
        "total_percent": total_percent,
    }


def rows_by_name(rows):
    return {row["name"]: row for row in rows}


def test_runtime_joins_by_qualified_name(sample_metrics):
    rows = rows_by_name(
        complexity_with_runtime(
            sample_metrics,
            [hot("classify", 16, 30.0, 40.0), hot("outer.<locals>.inner", 48, 20.0, 20.0)],
            SCRIPT,
        )
    )
    assert (rows["classify"]["self_percent"], rows["classify"]["total_percent"]) == (30.0, 40.0)
    assert rows["classify"]["complexity"] == 6 and rows["classify"]["rank"] == "B"
    assert rows["outer.<locals>.inner"]["self_percent"] == 20.0
    assert rows["outer"]["self_percent"] == 0.0  # never sampled
    assert len(rows) == 8


def test_runtime_joins_bare_names_by_line(sample_metrics):
    # Before Python 3.11 py-spy reports bare names: "inner" is found by name,
    # "total" by name too, and the line decides between same-named functions.
    static = dict(sample_metrics)
    static["function_complexity"] = [
        *sample_metrics["function_complexity"],
        {"name": "Other.add", "line": 60, "end_line": 64, "complexity": 9, "rank": "B"},
    ]
    rows = rows_by_name(
        complexity_with_runtime(
            static,
            [hot("inner", 48, 5.0, 5.0), hot("add", 62, 7.0, 8.0), hot("total", 0, 1.0, 1.0)],
            SCRIPT,
        )
    )
    assert rows["outer.<locals>.inner"]["self_percent"] == 5.0
    assert rows["Other.add"]["total_percent"] == 8.0
    assert rows["Accumulator.add"]["total_percent"] == 0.0
    assert rows["Accumulator.Summary.total"]["self_percent"] == 1.0  # unique name, no line


def test_runtime_ignores_other_files_and_accepts_a_bare_file_name(sample_metrics):
    other = hot("classify", 16, 50.0, 50.0, file="/usr/lib/python3/other.py")
    rows = rows_by_name(complexity_with_runtime(sample_metrics, [other], SCRIPT))
    assert rows["classify"]["self_percent"] == 0.0
    bare_name = "metrics_sample.py"
    rows = rows_by_name(
        complexity_with_runtime(sample_metrics, [hot("classify", 16, 9.0, 9.0)], bare_name)
    )
    assert rows["classify"]["self_percent"] == 9.0


def test_runtime_join_after_a_syntax_error_is_empty():
    static = static_metrics("def f(:\n", "bad.py")
    assert complexity_with_runtime(static, [hot("f", 1, 1.0, 1.0)], "bad.py") == []
