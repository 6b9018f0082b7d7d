"""Definition lines of the script's sampled functions, read from its source.

py-spy reports the line a sample was *on*, so a function's smallest sampled line is
usually a few lines below its ``def`` (``main`` defined on 92 but first sampled on
96, ``<module>`` on 3). Function rows should name where the function is defined, so
for the one file whose source we have - the uploaded script - the definition line
comes from its AST; every other function keeps its first sampled line, and the
report says so (``FunctionStat.line_is_definition``).
"""

from __future__ import annotations

from collections import defaultdict

from webapp.analysis.scopes import MODULE, MODULE_LINE, code_scopes, matching_scope
from webapp.analysis.static_metrics import parse_source
from webapp.profiles.model import Profile


def definition_lines(source: str, sampled: dict[str, set[int]]) -> dict[str, int]:
    """Definition line of each sampled function name of the script that the source names.

    ``sampled`` maps a function name as py-spy reported it to the lines sampled in it.
    Names the source does not define (or an unparsable source) are left out."""
    tree, _error = parse_source(source, "<script>")
    if tree is None:
        return {}
    spans = [(scope.qualname, scope.line, scope.end_line) for scope in code_scopes(tree)]
    found: dict[str, int] = {}
    for name, lines in sampled.items():
        if name == MODULE:
            found[name] = MODULE_LINE
            continue
        index = matching_scope(name, sorted(lines), spans)
        if index is not None:
            found[name] = spans[index][1]
    return found


def attach_definition_lines(profile: Profile, source: str, script_file: str) -> None:
    """Record in ``profile.definition_lines`` where the script's sampled functions are defined.

    ``script_file`` is the script's file name as it appears in the profile's frames."""
    sampled: dict[str, set[int]] = defaultdict(set)
    for frame in profile.frames:
        if frame.file == script_file:
            sampled[frame.name].add(frame.line)
    for name, line in definition_lines(source, sampled).items():
        profile.definition_lines[(name, script_file)] = line
