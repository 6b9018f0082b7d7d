"""cProfile / profile statistics (``python -m cProfile -o out.prof``, ``pstats.dump_stats``).

cProfile records no stacks: for each function its call counts, own time
(``tt``), inclusive time (``ct``) and the same per *caller*. The stacks shown
are therefore reconstructed, which the report says (:data:`APPROXIMATION`):
starting from the functions nobody called, each function's time under a
given caller is spread over its own callees in proportion to what each callee
edge took; recursion is cut at the first repeat, and paths below
:data:`MIN_SHARE` of the run or :data:`MAX_DEPTH` deep are folded into their parent.
"""

from __future__ import annotations

from webapp.profiles.importers.base import Importer, name_from_filename
from webapp.profiles.importers.building import ProfileBuilder
from webapp.profiles.importers.pstats_marshal import MarshalError, load_stats_dict
from webapp.profiles.model import Profile

LABEL = "cProfile (pstats)"
APPROXIMATION = (
    "cProfile records time per function and per caller, not stacks: this flamegraph is a "
    "call-graph approximation that spreads each function's time over its callers in proportion."
)
MIN_SHARE = 1e-4  # paths under 0.01 % of the run are folded into their parent
MAX_DEPTH = 100
MAX_PATHS = 100_000  # visited call paths: bounds the work on a dense call graph
SECONDS = 1.0

Key = tuple[str, int, str]  # (file, line, function name), as pstats keys its entries


class PstatsImporter(Importer):
    name = "pstats"
    description = "cProfile / pstats `.prof` (a call-graph approximation)"
    label = LABEL
    approximation = APPROXIMATION

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """marshal of a dict (``{``, maybe flagged) whose first key is a tuple."""
        return len(data) > 2 and data[0] in (0x7B, 0xFB) and data[1] in (0x28, 0x29, 0xA8, 0xA9)

    def load(self, data: bytes, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        try:
            raw = load_stats_dict(data)
        except MarshalError as error:
            raise builder.error(str(error)) from None
        stats = _checked(builder, raw)
        callees: dict[Key, list[tuple[Key, float]]] = {key: [] for key in stats}
        for callee, (_, _, _, _, callers) in stats.items():
            for caller, edge in callers.items():
                if caller in callees and caller != callee:
                    callees[caller].append((callee, edge[3]))
        roots = _roots(stats)
        total = sum(time for _, time in roots) or 1.0
        thread = builder.thread("all", "all threads")
        frame_of = {key: builder.frame(key[2], key[0] if key[0] != "~" else "", key[1]) for key in stats}
        paths = 0
        # (function, inclusive time on this path, the path's frames): depth first, no recursion.
        pending: list[tuple[Key, float, tuple[int, ...], frozenset]] = [
            (root, time, (), frozenset()) for root, time in reversed(roots)
        ]
        while pending:
            key, inclusive, above, on_path = pending.pop()
            paths += 1
            _, _, own, cumulative, _ = stats[key]
            share = inclusive / cumulative if cumulative > 0 else 0.0
            stack = (*above, frame_of[key])
            self_time = own * share
            children = []
            if len(stack) < MAX_DEPTH and paths < MAX_PATHS:
                for callee, edge_time in callees[key]:
                    child_time = edge_time * share
                    if callee in on_path or child_time < MIN_SHARE * total:
                        self_time += child_time  # folded into this frame
                    else:
                        children.append((callee, child_time))
            else:
                self_time = inclusive
            builder.add(thread, builder.stack(stack), max(self_time, 0.0))
            for callee, child_time in reversed(children):
                pending.append((callee, child_time, stack, on_path | {key}))
        return builder.build(SECONDS)


def _roots(stats: dict[Key, tuple]) -> list[tuple[Key, float]]:
    """(function, time) of the calls no recorded caller made: the outermost ones
    (cProfile's first ``exec`` has callers only for its later, nested calls)."""
    uncalled = [(key, entry[3] - sum(edge[3] for edge in entry[4].values())) for key, entry in stats.items()]
    largest = max((time for _, time in uncalled), default=0.0)
    roots = [(key, time) for key, time in uncalled if time > 0 and time >= MIN_SHARE * largest]
    return roots or [max(((key, entry[3]) for key, entry in stats.items()), key=lambda item: item[1])]


def _checked(builder: ProfileBuilder, raw: object) -> dict[Key, tuple]:
    """The stats dict, every entry checked: key (file, line, name), value (cc, nc, tt, ct, callers)."""
    if not isinstance(raw, dict) or not raw:
        raise builder.error("holds no function statistics")
    stats = {}
    for key, entry in raw.items():
        if not _is_key(key) or not (isinstance(entry, tuple) and len(entry) == 5 and isinstance(entry[4], dict)):
            raise builder.error("has an entry that is not (file, line, function) -> statistics")
        numbers = [builder.check_weight(value) for value in entry[:4]]
        callers = {}
        for caller, edge in entry[4].items():
            if not _is_key(caller) or not (isinstance(edge, tuple) and len(edge) == 4):
                raise builder.error("has a caller entry that is not (file, line, function) -> 4 numbers")
            callers[caller] = tuple(builder.check_weight(value) for value in edge)
        stats[key] = (*numbers, callers)
    return stats


def _is_key(key: object) -> bool:
    return (isinstance(key, tuple) and len(key) == 3 and isinstance(key[0], str)
            and type(key[1]) is int and isinstance(key[2], str))
