"""Exporter registry: every output format a Profile can be rendered to.

To add a format, write a module with an
:class:`~webapp.profiles.exporters.base.Exporter` subclass and add one line
to ``EXPORTERS``.
"""

from __future__ import annotations

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.exporters.collapsed import CollapsedExporter
from webapp.profiles.exporters.flame_tree import FlameTreeExporter
from webapp.profiles.exporters.function_tree import FunctionTreeExporter
from webapp.profiles.exporters.speedscope import SpeedscopeExporter
from webapp.profiles.exporters.svg import SvgExporter

EXPORTERS: dict[str, type[Exporter]] = {
    SpeedscopeExporter.name: SpeedscopeExporter,
    CollapsedExporter.name: CollapsedExporter,
    FlameTreeExporter.name: FlameTreeExporter,
    FunctionTreeExporter.name: FunctionTreeExporter,
    SvgExporter.name: SvgExporter,
}


def get_exporter(name: str, **options) -> Exporter:
    """A configured exporter by name, e.g. ``get_exporter("speedscope", line_level=True)``."""
    try:
        exporter_class = EXPORTERS[name]
    except KeyError:
        known = ", ".join(sorted(EXPORTERS))
        raise ValueError(f"There is no exporter called {name!r}; choose one of: {known}.") from None
    return exporter_class(**options)


__all__ = [
    "EXPORTERS",
    "CollapsedExporter",
    "Exporter",
    "FlameTreeExporter",
    "FunctionTreeExporter",
    "SpeedscopeExporter",
    "SvgExporter",
    "get_exporter",
]
