"""The example scripts the home page offers, each with the one line that says what it shows.

That line is the first line of the example's module docstring, read with ``ast``
(the example is parsed, never run) and kept until the file changes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from webapp.views.submission import list_examples


@dataclass(frozen=True)
class Example:
    """One example script: the name the form sends, and its one-line description."""

    name: str
    description: str


def example_choices() -> list[Example]:
    """The examples, sorted by name, with their descriptions ('' when one has no docstring)."""
    return sorted((Example(path.stem, _description(str(path), path.stat().st_mtime_ns))
                   for path in list_examples().values()), key=lambda example: example.name)


@lru_cache(maxsize=64)
def _description(path: str, _mtime_ns: int) -> str:
    # The modification time is part of the cache key: an edited example is read again.
    try:
        docstring = ast.get_docstring(ast.parse(Path(path).read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return ""
    return docstring.strip().splitlines()[0].strip() if docstring and docstring.strip() else ""
