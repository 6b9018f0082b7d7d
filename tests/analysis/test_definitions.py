"""Function rows name the line a function is defined on, as the script's source says."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

from webapp.analysis import attach_definition_lines, function_stats
from webapp.analysis.definitions import definition_lines
from webapp.analysis.scopes import code_scopes
from webapp.profiles import load_profile

FIXTURES = Path(__file__).parent / "fixtures"
NESTED = FIXTURES / "nested_scopes.py"
PY_SPY = Path(sys.executable).with_name("py-spy")


def code_objects(code: types.CodeType):
    """Every code object compiled from a file, as Python itself names them."""
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield constant
            yield from code_objects(constant)


@pytest.mark.parametrize("source_file", [NESTED, FIXTURES / "metrics_sample.py"])
def test_scopes_are_named_as_python_names_its_code_objects(source_file):
    source = source_file.read_text()
    compiled = {(c.co_qualname, c.co_firstlineno) for c in code_objects(compile(source, "x.py", "exec"))}
    scopes = code_scopes(ast.parse(source))
    # co_firstlineno of a decorated function is its first decorator; a definition line is the `def`
    decorated = {s.qualname: min(d.lineno for d in s.node.decorator_list)
                 for s in scopes if getattr(s.node, "decorator_list", None)}
    ours = {(s.qualname, decorated.get(s.qualname, s.line)) for s in scopes}
    if sys.version_info >= (3, 12):  # PEP 709: list/set/dict comprehensions have no code object
        ours = {(q, line) for q, line in ours if not q.endswith(("<listcomp>", "<setcomp>", "<dictcomp>"))}
    assert ours == compiled


def test_scopes_in_default_values_and_first_iterables_belong_to_the_enclosing_scope():
    source = "def f(key=lambda x: x):\n    return [y for y in (lambda: [1])()]\n"
    compiled = {c.co_qualname for c in code_objects(compile(source, "x.py", "exec"))}
    assert {s.qualname for s in code_scopes(ast.parse(source))} == compiled
    assert "<lambda>" in compiled and "f.<locals>.<lambda>" in compiled


def test_definition_lines_from_sampled_lines():
    source = NESTED.read_text()
    sampled = {
        "<module>": {40}, "main": {36, 37}, "spin": {9, 10}, "Worker": {18},
        "Worker.method": {22}, "Worker.method.<locals>.<listcomp>": {22},
        "outer.<locals>.<lambda>.<locals>.<dictcomp>": {29}, "outer.<locals>.inner.<locals>.<genexpr>": {27},
        "not_in_the_file": {3},
    }
    assert definition_lines(source, sampled) == {
        "<module>": 1, "main": 33, "spin": 6, "Worker": 17,
        "Worker.method": 21,  # the def line, not the decorator's
        "Worker.method.<locals>.<listcomp>": 22,
        "outer.<locals>.<lambda>.<locals>.<dictcomp>": 29, "outer.<locals>.inner.<locals>.<genexpr>": 27,
    }
    # Pythons before 3.11 give py-spy bare names; the sampled line picks the right one
    assert definition_lines(source, {"inner": {27}, "<listcomp>": {22}}) == {"inner": 26, "<listcomp>": 22}
    assert definition_lines("def broken(:\n", {"<module>": {1}}) == {}


@pytest.mark.slow
def test_a_real_pyspy_run_gets_each_functions_definition_line(tmp_path):
    """py-spy 0.4.3 on this Python: every function of the script it samples gets its def line."""
    if not PY_SPY.exists():
        pytest.skip(f"py-spy is not installed next to {sys.executable}")
    output = tmp_path / "nested.speedscope.json"
    subprocess.run([str(PY_SPY), "record", "-f", "speedscope", "-o", str(output), "-r", "200", "--",
                    sys.executable, str(NESTED)], check=True, capture_output=True, timeout=60)
    profile = load_profile(output.read_bytes())
    script = str(NESTED)
    attach_definition_lines(profile, NESTED.read_text(), script)
    expected = {"<module>": 1, "main": 33, "spin": 6, "Worker.method": 21, "outer": 25,
                "outer.<locals>.inner": 26, "outer.<locals>.<lambda>": 29}
    rows = {s.name: s for s in function_stats(profile) if s.file == script}
    for name, line in expected.items():
        assert (rows[name].line, rows[name].line_is_definition) == (line, True), name
    assert all(row.line_is_definition for row in rows.values())  # every sampled scope was found
    elsewhere = [s for s in function_stats(profile) if s.file != script]
    assert not any(s.line_is_definition for s in elsewhere)  # no source read: the first sampled line
