"""pyinstrument's JSON session (``pyinstrument -r json -o out.json script.py``).

``{"start_time", "duration", "sample_count", "root_frame": {"function",
"file_path", "line_no", "time", "children": [...]}}``: a call tree whose
``time`` is inclusive, in seconds. Each frame's own time - its time less its
children's - becomes the weight of its stack. pyinstrument's synthetic
``[self]`` leaves (a frame's own time, when it also has children) are folded
into their parent; ``[await]`` and other such leaves stay as frames. The tree is walked without recursion (deep trees are fine; orjson
already refused nesting beyond 1024 levels).
"""

from __future__ import annotations

from webapp.profiles.importers.base import name_from_filename
from webapp.profiles.importers.building import ProfileBuilder
from webapp.profiles.importers.json_input import JsonImporter
from webapp.profiles.model import Profile

LABEL = "pyinstrument"
SECONDS = 1.0
SELF_FRAME = "[self]"


class PyinstrumentImporter(JsonImporter):
    name = "pyinstrument"
    description = "pyinstrument JSON (`pyinstrument -r json`)"
    label = LABEL
    hints = (b'"root_frame"',)

    def recognizes_document(self, document: object) -> bool:
        return isinstance(document, dict) and "root_frame" in document

    def load_document(self, document: object, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        root = document.get("root_frame")
        if root is None:
            raise builder.error("holds no samples (its root_frame is empty)",
                                "Profile a program that runs long enough to be sampled.")
        thread = builder.thread("main", "Main thread")
        pending: list[tuple[object, tuple[int, ...]]] = [(root, ())]
        while pending:
            node, above = pending.pop()
            if not isinstance(node, dict):
                raise builder.error("has a frame that is not a JSON object")
            name, file, line = node.get("function"), node.get("file_path", ""), node.get("line_no", 0)
            if not isinstance(name, str) or not isinstance(file or "", str):
                raise builder.error("has a frame without a function name")
            if name == SELF_FRAME and above:  # the parent's own time: it belongs to the parent
                builder.add(thread, builder.stack(above), builder.check_weight(node.get("time")))
                continue
            stack = (*above, builder.frame(name, file or "", line if type(line) is int else 0))
            children = node.get("children", [])
            if not isinstance(children, list):
                raise builder.error("has a frame whose children are not a list")
            total = builder.check_weight(node.get("time"))
            inner = sum(builder.check_weight(child.get("time")) if isinstance(child, dict) else 0.0
                        for child in children)
            builder.add(thread, builder.stack(stack), max(total - inner, 0.0))
            pending.extend((child, stack) for child in reversed(children))
        profile = builder.build(SECONDS)
        duration = document.get("duration")
        if type(duration) in (int, float) and 0 < duration < 1e9:
            profile.end_s = float(duration)
        return profile
