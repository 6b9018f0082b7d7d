"""Reading a large speedscope file without turning every number into a Python object.

A 1M-sample py-spy file is ~200 MB, almost all of it the ``samples`` arrays;
``orjson.loads`` of it builds ~30M int objects (seconds, gigabytes). Most
samples repeat the stack before them, so we work on the raw bytes instead:

1. find each ``"samples":[[...]]`` and ``"weights":[...]`` array and replace it
   by its index, giving a small *skeleton* document that orjson parses at once
   (frames, profile names, units ...);
2. hand each samples span to the compiled scanner
   (:mod:`webapp.profiles.kernels.samples`), which counts runs of repeated
   samples and reads the digits of each distinct stack once.

This relies on the compact layout py-spy and orjson write (no whitespace
inside the arrays). Whenever that assumption fails we raise
:class:`FastPathUnsuitable` and the caller parses the file the ordinary way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import orjson

SAMPLES_KEY = b'"samples":['
WEIGHTS_KEY = b'"weights":['


class FastPathUnsuitable(Exception):
    """The file's layout is not the compact one the byte scanner expects."""


@dataclass(frozen=True, slots=True)
class ArraySpan:
    """Where an array's elements lie: ``data[start:end]``, outer brackets excluded.

    For a samples array the innermost brackets of the first and last stack are
    excluded too (``[[1,2],[3]]`` -> ``1,2],[3``), so the stacks are separated by
    ``],[``. ``empty`` tells ``[]`` from ``[[]]``.
    """

    start: int
    end: int
    empty: bool = False


@dataclass(slots=True)
class ScannedFile:
    """The skeleton document plus the spans its placeholders point to."""

    document: Any
    samples: list[ArraySpan]
    weights: list[ArraySpan]


def scan_file(data: bytes) -> ScannedFile:
    """Split ``data`` into a parsed skeleton and the spans of its big arrays."""
    parts: list[bytes] = []
    samples: list[ArraySpan] = []
    weights: list[ArraySpan] = []
    pos = 0
    while (next_array := _next_array(data, pos)) is not None:
        key, open_at = next_array
        spans, locate = (samples, _samples_span) if key == SAMPLES_KEY else (weights, _weights_span)
        span, pos_after = locate(data, open_at)
        parts.append(data[pos:open_at])
        parts.append(b"%d" % len(spans))
        spans.append(span)
        pos = pos_after
    parts.append(data[pos:])
    try:
        document = orjson.loads(b"".join(parts))
    except orjson.JSONDecodeError as error:
        raise FastPathUnsuitable("skeleton is not valid JSON") from error
    return ScannedFile(document, samples, weights)


def _next_array(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """The next samples or weights key at or after ``pos``, and where its "[" is.

    The weights search stops at the next samples key, so no byte of a big
    samples array is ever searched for a key.
    """
    samples_at = data.find(SAMPLES_KEY, pos)
    weights_at = data.find(WEIGHTS_KEY, pos, len(data) if samples_at < 0 else samples_at)
    if weights_at >= 0:
        return WEIGHTS_KEY, weights_at + len(WEIGHTS_KEY) - 1
    if samples_at >= 0:
        return SAMPLES_KEY, samples_at + len(SAMPLES_KEY) - 1
    return None


def _samples_span(data: bytes, open_at: int) -> tuple[ArraySpan, int]:
    """Span of the samples array opening at ``open_at``, and the index after it."""
    following = data[open_at + 1 : open_at + 2]
    if following == b"]":
        return ArraySpan(open_at + 1, open_at + 1, empty=True), open_at + 2
    if following != b"[":
        raise FastPathUnsuitable("samples array is not compact")
    # Stacks hold only numbers, never a quote, so the array ends at the last "]]"
    # before the next quote (the next key); memchr finds that quote at memory speed.
    next_quote = data.find(b'"', open_at)
    close_at = data.rfind(b"]]", open_at, len(data) if next_quote < 0 else next_quote)
    if close_at < 0:
        raise FastPathUnsuitable("samples array does not end")
    return ArraySpan(open_at + 2, close_at), close_at + 2


def _weights_span(data: bytes, open_at: int) -> tuple[ArraySpan, int]:
    """Span of the weights array opening at ``open_at``, and the index after it."""
    close_at = data.find(b"]", open_at + 1)
    if close_at < 0:
        raise FastPathUnsuitable("weights array does not end")
    return ArraySpan(open_at + 1, close_at, empty=close_at == open_at + 1), close_at + 1


class FlatStacks(NamedTuple):
    """Stacks back to back: ``frames`` (int64) and how many frames each has."""

    frames: np.ndarray
    lengths: np.ndarray


def raw_weights(data: bytes, span: ArraySpan) -> tuple[int, bytes | list[bytes]]:
    """``(n, text)`` when all n weights are the same text, else ``(n, texts)``.

    py-spy writes one identical weight per sample; checking that with one
    comparison saves splitting a million of them.
    """
    if span.empty:
        return 0, []
    body = data[span.start : span.end]
    first = body.split(b",", 1)[0]
    count = body.count(b",") + 1
    if len(body) == count * (len(first) + 1) - 1 and body + b"," == (first + b",") * count:
        return count, first
    texts = body.split(b",")
    return len(texts), texts


def decode_weight(text: bytes) -> float:
    """One weight's text -> its number; FastPathUnsuitable unless it is a JSON number."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise FastPathUnsuitable("a weight is not a number") from error
    if type(value) not in (int, float):
        raise FastPathUnsuitable("a weight is not a number")
    return value
