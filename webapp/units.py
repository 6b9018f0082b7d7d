"""Quantities as people read them: sizes in binary units ("1 MiB", not "1,048,576 bytes")."""

from __future__ import annotations

BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB")


def human_size(size_bytes: int | float | None) -> str:
    """``size_bytes`` in the largest binary unit that keeps it at 1 or more: "512 bytes",
    "1.5 KiB", "1 MiB", "24 MiB". Below 10 of a unit one decimal is kept (unless it is 0)."""
    if size_bytes is None:
        return ""
    value = float(size_bytes)
    if abs(value) < 1024:
        count = int(value)
        return f"{count} byte" if count == 1 else f"{count} bytes"
    unit = ""
    for unit in BINARY_UNITS:
        value /= 1024
        if abs(value) < 1024:
            break
    text = f"{value:.1f}".removesuffix(".0") if abs(value) < 10 else f"{value:.0f}"
    return f"{text} {unit}"


def pct(value: float | None) -> str:
    """A percentage for a table cell: "87.5 %", or "–" when there was nothing to measure."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{value:.1f} %"
