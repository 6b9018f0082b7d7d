"""The one error type for a refused submission."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BadInput(Exception):
    """A submission that was refused: the sentence to show, the HTTP status, extra headers,
    and the form field it is about (None: the submission as a whole)."""

    message: str
    status_code: int = 400
    headers: dict[str, str] = field(default_factory=dict)
    field: str | None = None

    def __str__(self) -> str:
        return self.message
