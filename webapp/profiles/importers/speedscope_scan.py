"""Reading a large speedscope file without turning every number into a Python object.

A 1M-sample py-spy file is ~200 MB, almost all of it the ``samples`` arrays;
``orjson.loads`` of it builds ~30M int objects (seconds, gigabytes). Most
samples repeat the stack before them, so we work on the raw bytes instead:

1. find each ``"samples":[[...]]`` and ``"weights":[...]`` array and replace it
   by its index, giving a small *skeleton* document that orjson parses at once
   (frames, profile names, units ...);
2. split each samples array on ``],[`` one small chunk at a time, so that one
   sample is one ``bytes`` slice such as ``b"3,2,1,0"``; the caller counts and
   interns the slices and parses only the distinct ones, with numpy.

This relies on the compact layout py-spy and orjson write (no whitespace
inside the arrays). Whenever that assumption fails we raise
:class:`FastPathUnsuitable` and the caller parses the file the ordinary way.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import orjson

SAMPLES_KEY = b'"samples":['
WEIGHTS_KEY = b'"weights":['
STACK_SEPARATOR = b"],["
STACK_CHARACTERS = b"0123456789,"  # all a compact stack of frame numbers may contain
_SEMICOLON_TO_COMMA = bytes.maketrans(b";", b",")
MAX_FRAME_DIGITS = 9  # longer frame numbers go to the generic parser (and fail the frame range check)
# Bytes of a samples array split at a time. Small enough that a chunk and its
# slices stay in the CPU cache while they are compared and counted (measured on
# a 1M-sample file: 64 KiB -> 0.32 s, 1 MiB -> 0.57 s, 4 MiB -> 1.5 s), big
# enough that the per-chunk Python overhead vanishes.
SCAN_CHUNK_BYTES = 64 * 1024


class FastPathUnsuitable(Exception):
    """The file's layout is not the compact one the byte scanner expects."""


@dataclass(frozen=True, slots=True)
class ArraySpan:
    """Where an array's elements lie: ``data[start:end]``, outer brackets excluded.

    For a samples array the innermost brackets of the first and last stack are
    excluded too (``[[1,2],[3]]`` -> ``1,2],[3``), so splitting on ``],[``
    gives one slice per stack. ``empty`` tells ``[]`` from ``[[]]``.
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


def iter_stack_chunks(
    data: bytes, span: ArraySpan, chunk_bytes: int = SCAN_CHUNK_BYTES
) -> Iterator[list[bytes]]:
    """The stacks of a samples span as lists of raw slices (``b"3,2,1"``), in order.

    Split a chunk at a time so that only one chunk's slices are alive.
    """
    if span.empty:
        return
    pos, end = span.start, span.end
    while True:
        cut = data.find(STACK_SEPARATOR, pos + chunk_bytes, end) if pos + chunk_bytes < end else -1
        if cut < 0:
            yield data[pos:end].split(STACK_SEPARATOR)
            return
        yield data[pos:cut].split(STACK_SEPARATOR)
        pos = cut + len(STACK_SEPARATOR)


class FlatStacks(NamedTuple):
    """Stacks back to back: ``frames`` (int64) and how many frames each has."""

    frames: np.ndarray
    lengths: np.ndarray


def parse_raw_stacks(raws: list[bytes]) -> FlatStacks:
    """``[b"3,2,1", b"4"]`` -> frames ``[3, 2, 1, 4]``, lengths ``[3, 1]``, without a
    Python int per frame (numpy reads the digits).

    FastPathUnsuitable unless every stack is a compact list of JSON integers (no
    empty number, no leading zero, at most MAX_FRAME_DIGITS digits): anything else
    goes to the generic parser, which judges it.
    """
    if not raws:
        return FlatStacks(np.zeros(0, np.int64), np.zeros(0, np.int64))
    text = b";".join(raws)
    if text.translate(None, STACK_CHARACTERS + b";") or text.count(b";") != len(raws) - 1 or _has_empty_number(text):
        raise FastPathUnsuitable("a stack holds something other than frame numbers")
    # Per-stack counts come from C loops over the list; nothing is made per character.
    sizes = np.fromiter(map(len, raws), dtype=np.int64, count=len(raws))
    commas = np.fromiter(map(bytes.count, raws, repeat(b",")), dtype=np.int64, count=len(raws))
    lengths = np.where(sizes > 0, commas + 1, 0)
    if lengths.all():  # no empty stack: ";" can simply become ","
        body = text.translate(_SEMICOLON_TO_COMMA)
    else:
        body = b",".join(raw for raw in raws if raw)
    del text
    frames = np.fromstring(body, dtype=np.int64, sep=",") if body else np.zeros(0, np.int64)
    if len(frames) != lengths.sum() or not _canonical(frames, len(body)):
        raise FastPathUnsuitable("a stack is not a list of compact JSON integers")
    return FlatStacks(frames, lengths)


def _has_empty_number(text: bytes) -> bool:
    """Does a stack of ``text`` (digits, "," and ";" only) hold an empty number? Only a
    whole stack may be empty."""
    return b",," in text or b",;" in text or b";," in text or text.startswith(b",") or text.endswith(b",")


def _canonical(numbers: np.ndarray, text_length: int) -> bool:
    """Were ``numbers`` written as JSON writes integers (no leading zero, at most
    MAX_FRAME_DIGITS digits), given that their comma-separated text is ``text_length``
    bytes? Each number's canonical text is no longer than what was read, and as long
    only when canonical, so comparing the sums checks every number at once."""
    if not len(numbers):
        return text_length == 0
    if numbers.min() < 0 or numbers.max() >= 10**MAX_FRAME_DIGITS:
        return False
    widest = len(str(int(numbers.max())))
    digits = len(numbers) + sum(int(np.count_nonzero(numbers >= 10**k)) for k in range(1, widest))
    return digits + len(numbers) - 1 == text_length


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
