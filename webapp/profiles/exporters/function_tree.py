"""Function tree exporter: ``flame.json``'s function-level tree in binary columns, for comparing.

A report keeps it beside ``flame.json`` so that the compare page's first visit reads two small
binary files instead of parsing two large JSON documents (both trees, every frame) and
converting millions of numbers. The format is :mod:`.tree_columns`'s; the content is exactly
the "function" tree of the flame tree exporter's document, so a comparison made from either
is the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from webapp.profiles.exporters import tree_columns
from webapp.profiles.exporters.base import Exporter
from webapp.profiles.exporters.flame_tree import FlameTreeExporter
from webapp.profiles.model import Profile


class FunctionTreeExporter(Exporter):
    """Renders a Profile's function-level call tree as :func:`tree_columns.encode` bytes."""

    name = "function-tree"
    file_suffix = ".function-tree.bin"
    media_type = "application/octet-stream"

    def __init__(self, script_file: str | Iterable[str] | None = None) -> None:
        super().__init__(line_level=False)
        self.flame = FlameTreeExporter(script_file)

    def render(self, profile: Profile) -> bytes:
        """The binary columns of the function tree ``flame.json`` holds for ``profile``."""
        document = self.flame.document(profile, levels=("function",))
        return tree_columns.encode(tree_columns.tree_columns(document, "function"))
