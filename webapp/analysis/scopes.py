"""The code objects of a source file, named as Python names them at run time.

Every function, lambda, comprehension and class body becomes its own code object
when the file runs, and py-spy reports a sample's function by that code object's
``co_qualname`` (Python 3.11+; only the bare name before). Measured with py-spy
0.4.3 on Python 3.11::

    <module>                                     the file itself
    Worker                                       a class body
    Worker.method, Worker.<listcomp>             in a class: "Class.name"
    outer.<locals>.inner                         in a function: "func.<locals>.name"
    outer.<locals>.<lambda>.<locals>.<dictcomp>  lambdas and comprehensions nest the same way
    outer.<locals>.inner.<locals>.<genexpr>

Since Python 3.12 list, set and dict comprehensions run inline in their function
(PEP 709) and no longer show up; listing them anyway does no harm, as nothing
will sample them.

Parts of a definition that run when it is *defined* belong to the enclosing scope:
decorators, default values, annotations, class bases, and the first iterable of a
comprehension. A lambda there is named after the enclosing scope, as Python does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MODULE = "<module>"
MODULE_LINE = 1  # a module's code object starts on its first line
_COMPREHENSION_NAMES = {
    ast.ListComp: "<listcomp>",
    ast.SetComp: "<setcomp>",
    ast.DictComp: "<dictcomp>",
    ast.GeneratorExp: "<genexpr>",
}
FUNCTION, CLASS, LAMBDA, COMPREHENSION = "function", "class", "lambda", "comprehension"


@dataclass(frozen=True, slots=True)
class Scope:
    """One code object of the file: its run-time qualified name and the lines it spans.

    ``line`` is where the definition starts: the ``def`` or ``class`` line (not a
    decorator's), a lambda's ``lambda``, a comprehension's opening bracket."""

    qualname: str
    kind: str  # FUNCTION, CLASS, LAMBDA or COMPREHENSION
    line: int
    end_line: int
    node: ast.AST


def code_scopes(tree: ast.Module) -> list[Scope]:
    """Every function, class, lambda and comprehension of ``tree``, in source order."""
    found: list[Scope] = []
    _visit_children(tree, "", found)
    return found


def _visit_children(node: ast.AST, prefix: str, found: list[Scope]) -> None:
    for child in ast.iter_child_nodes(node):
        _visit(child, prefix, found)


def _visit_all(nodes: Iterable[ast.AST | None], prefix: str, found: list[Scope]) -> None:
    for node in nodes:
        if node is not None:
            _visit(node, prefix, found)


def _visit(node: ast.AST, prefix: str, found: list[Scope]) -> None:
    """Record ``node`` if it makes a code object, then its insides under the right prefix."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        scope = _add(found, prefix + node.name, FUNCTION, node)
        _visit_all([*node.decorator_list, node.args, node.returns], prefix, found)
        _visit_all(node.body, scope.qualname + ".<locals>.", found)
    elif isinstance(node, ast.ClassDef):
        scope = _add(found, prefix + node.name, CLASS, node)
        _visit_all([*node.decorator_list, *node.bases, *node.keywords], prefix, found)
        _visit_all(node.body, scope.qualname + ".", found)
    elif isinstance(node, ast.Lambda):
        scope = _add(found, prefix + "<lambda>", LAMBDA, node)
        _visit(node.args, prefix, found)
        _visit(node.body, scope.qualname + ".<locals>.", found)
    elif type(node) in _COMPREHENSION_NAMES:
        scope = _add(found, prefix + _COMPREHENSION_NAMES[type(node)], COMPREHENSION, node)
        first, *rest = node.generators
        _visit(first.iter, prefix, found)  # evaluated before the comprehension's frame starts
        inner = scope.qualname + ".<locals>."
        _visit_all([first.target, *first.ifs, *rest], inner, found)
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        _visit_all(elements, inner, found)
    else:
        _visit_children(node, prefix, found)


def _add(found: list[Scope], qualname: str, kind: str, node: ast.AST) -> Scope:
    scope = Scope(qualname, kind, node.lineno, node.end_lineno or node.lineno, node)
    found.append(scope)
    return scope


# -- matching a sampled function to its scope ---------------------------------------


def bare_name(name: str) -> str:
    """The last part of a qualified name: what Pythons before 3.11 (and py-spy there) report."""
    return name.rsplit(".", 1)[-1]


def matching_scope(name: str, lines: Sequence[int], spans: Sequence[tuple[str, int, int]]) -> int | None:
    """Index in ``spans`` ((qualname, line, end_line) each) of the code a sampled function is.

    Qualified names are compared first (Python 3.11+), then bare names (older
    Pythons). Of several candidates (two lambdas in one function share a name), the
    innermost one holding the smallest sampled line in ``lines`` wins. Without any
    line inside a candidate, a name that occurs once is enough."""
    candidates = [i for i, (qualname, _, _) in enumerate(spans) if qualname == name]
    if not candidates:
        bare = bare_name(name)
        candidates = [i for i, (qualname, _, _) in enumerate(spans) if bare_name(qualname) == bare]
    for line in sorted(lines):
        holding = [i for i in candidates if spans[i][1] <= line <= spans[i][2]]
        if holding:
            return min(holding, key=lambda i: spans[i][2] - spans[i][1])
    return candidates[0] if len(candidates) == 1 else None
