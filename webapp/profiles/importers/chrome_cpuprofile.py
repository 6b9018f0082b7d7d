"""Chrome's ``.cpuprofile`` (DevTools, Node's ``--cpu-prof``, V8's CPU profiler).

``{"nodes": [{"id", "callFrame": {"functionName", "url", "lineNumber", ...},
"children": [ids]}, ...], "startTime", "endTime", "samples": [node ids],
"timeDeltas": [µs]}``. Nodes form a call tree through ``children`` (or, in
older files, ``parent``); a sample names the tree node it hit. Lines are
0-based in the file, 1-based here. Each sample weighs the time until the next
one (``timeDeltas``), the last one the mean interval. The synthetic ``(root)``
node is dropped. :func:`read_cpu_profile` also serves the Trace Event format,
where DevTools embeds the same data in ``ProfileChunk`` events.
"""

from __future__ import annotations

from webapp.profiles.importers.base import name_from_filename
from webapp.profiles.importers.building import ProfileBuilder
from webapp.profiles.importers.json_input import JsonImporter
from webapp.profiles.model import Profile

LABEL = "Chrome .cpuprofile"
SECONDS_PER_MICROSECOND = 1e-6
ROOT_NAME = "(root)"
DEFAULT_SAMPLE_US = 1000.0


class CpuProfileImporter(JsonImporter):
    name = "cpuprofile"
    description = "Chrome / Node `.cpuprofile`"
    label = LABEL
    hints = (b'"callFrame"',)

    def recognizes_document(self, document: object) -> bool:
        return isinstance(document, dict) and isinstance(document.get("nodes"), list) and "samples" in document

    def load_document(self, document: object, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        thread = builder.thread("main", "Main thread")
        read_cpu_profile(builder, thread, document)
        return builder.build(SECONDS_PER_MICROSECOND)


def read_cpu_profile(builder: ProfileBuilder, thread, document: dict) -> None:
    """Add the samples of one cpuprofile document to ``thread``."""
    nodes = document.get("nodes")
    samples = document.get("samples")
    deltas = document.get("timeDeltas")
    if not isinstance(nodes, list) or not isinstance(samples, list):
        raise builder.error("has no list of nodes or of samples")
    by_id: dict[int, dict] = {}
    for node in nodes:
        if not isinstance(node, dict) or type(node.get("id")) is not int or not isinstance(node.get("callFrame"), dict):
            raise builder.error("has a node without an id or a callFrame")
        by_id[node["id"]] = node
    parent: dict[int, int] = {}
    for node in nodes:
        children = node.get("children", [])
        if not isinstance(children, list):
            raise builder.error("has a node whose children are not a list")
        for child in children:
            if type(child) is not int or child not in by_id:
                raise builder.error(f"has a node whose child {str(child)[:20]} is not a node")
            parent[child] = node["id"]
        if type(node.get("parent")) is int and node["id"] not in parent:
            parent[node["id"]] = node["parent"]
    frame_of = _frame_id(builder, by_id)
    frames_of: dict[int, tuple[int, ...]] = {}  # node -> its stack's frames, root first

    def stack_id(node_id: int) -> int:
        """Walk up to the nearest node already resolved, then build down: each node once."""
        path, on_path, current = [], set(), node_id
        while current is not None and current not in frames_of:
            if current in on_path:
                raise builder.error("has nodes whose parents form a cycle")
            if current not in by_id:
                raise builder.error(f"has a node whose parent {str(current)[:20]} is not a node")
            on_path.add(current)
            path.append(current)
            current = parent.get(current)
        above = frames_of[current] if current is not None else ()
        for node in reversed(path):
            frame = frame_of(node)
            if frame is not None:
                above = (*above, frame)
                builder.charge(len(above))
            frames_of[node] = above
        return builder.stack(frames_of[node_id], charged=True)

    weights = _sample_weights(builder, document, len(samples), deltas)
    for node_id, weight in zip(samples, weights):
        if type(node_id) is not int or node_id not in by_id:
            raise builder.error(f"has a sample of node {str(node_id)[:20]}, which is not in its node list")
        builder.add(thread, stack_id(node_id), weight)


def _frame_id(builder: ProfileBuilder, by_id: dict[int, dict]):
    def frame(node_id: int) -> int | None:
        call = by_id[node_id]["callFrame"]
        name = call.get("functionName")
        if not isinstance(name, str):
            raise builder.error("has a callFrame without a functionName")
        if name == ROOT_NAME:
            return None
        url = call.get("url") if isinstance(call.get("url"), str) else ""
        line = call.get("lineNumber")
        line = line + 1 if type(line) is int and line >= 0 else 0
        return builder.frame(name or "(anonymous)", url, line)
    return frame


def _sample_weights(builder: ProfileBuilder, document: dict, count: int, deltas: object) -> list[float]:
    """Microseconds per sample: the delta to the next sample; without deltas, the
    profile's span shared equally (1 ms each when it has none)."""
    if not isinstance(deltas, list) or len(deltas) != count or count == 0:
        if deltas is not None and not isinstance(deltas, list):
            raise builder.error("has timeDeltas that are not a list")
        start, end = document.get("startTime"), document.get("endTime")
        span = end - start if all(type(v) in (int, float) for v in (start, end)) else 0
        each = span / count if count and 0 < span < 1e15 else DEFAULT_SAMPLE_US
        return [each] * count
    values = [builder.check_weight(abs(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else d)
              for d in deltas]
    following = values[1:]
    mean = sum(following) / len(following) if following else 1.0
    return following + [mean]
