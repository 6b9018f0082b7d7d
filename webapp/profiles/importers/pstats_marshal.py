"""A reader for the small part of Python's marshal format that pstats files use.

``pstats`` files (``python -m cProfile -o out.prof``) are ``marshal.dump`` of a
dict. The standard ``marshal.loads`` is documented as unsafe on untrusted data
(it can build code objects, and damaged input can crash the interpreter), and
uploads are untrusted, so this reader accepts only what a stats dict holds -
dicts, tuples, strings, ints, floats, None, booleans and back-references - with
bounds checked on every read and a depth limit. Anything else is a format error.
"""

from __future__ import annotations

import struct

FLAG_REF = 0x80
MAX_DEPTH = 16  # a stats dict nests 5 deep
MAX_LONG_DIGITS = 64  # 15-bit digits: far beyond any count or line


class MarshalError(ValueError):
    """The bytes are not the subset of marshal a pstats file uses; the text says why."""


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.refs: list[object] = []

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise MarshalError("ends in the middle of a value")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def int32(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def size(self) -> int:
        value = self.int32()
        if value < 0 or value > len(self.data):
            raise MarshalError("has a length that does not fit in the file")
        return value

    def value(self, depth: int = 0) -> object:
        if depth > MAX_DEPTH:
            raise MarshalError("is nested more deeply than a stats file can be")
        code = self.take(1)[0]
        flagged, kind = code & FLAG_REF, chr(code & ~FLAG_REF)
        slot = None
        if flagged:
            slot = len(self.refs)
            self.refs.append(None)
        result = self._read(kind, depth, slot)
        if slot is not None:
            self.refs[slot] = result
        return result

    def _read(self, kind: str, depth: int, slot: int | None) -> object:
        if kind == "N":
            return None
        if kind == "T":
            return True
        if kind == "F":
            return False
        if kind == "i":
            return self.int32()
        if kind == "l":
            count = self.int32()
            if abs(count) > MAX_LONG_DIGITS:
                raise MarshalError("has an integer too large for a profile")
            digits = struct.unpack(f"<{abs(count)}H", self.take(2 * abs(count)))
            number = sum(digit << (15 * i) for i, digit in enumerate(digits))
            return -number if count < 0 else number
        if kind == "g":
            return struct.unpack("<d", self.take(8))[0]
        if kind in "zZ":
            return self.take(self.take(1)[0]).decode("latin-1")
        if kind in "aA":
            return self.take(self.size()).decode("latin-1")
        if kind in "ut":
            try:
                return self.take(self.size()).decode("utf-8", errors="surrogatepass")
            except UnicodeDecodeError as error:
                raise MarshalError("has text that is not UTF-8") from error
        if kind in ")(":
            count = self.take(1)[0] if kind == ")" else self.size()
            return tuple(self.value(depth + 1) for _ in range(count))
        if kind == "{":
            result: dict = {}
            if slot is not None:
                self.refs[slot] = result
            while self.data[self.pos : self.pos + 1] != b"0":
                key = self.value(depth + 1)
                try:
                    result[key] = self.value(depth + 1)
                except TypeError:
                    raise MarshalError("has a dict key that cannot be a key") from None
            self.take(1)
            return result
        if kind == "r":
            index = self.int32()
            if not 0 <= index < len(self.refs) or self.refs[index] is None:
                raise MarshalError("refers back to a value it does not have")
            return self.refs[index]
        raise MarshalError(f"holds a value of marshal type {kind!r}, which a stats file never has")


def load_stats_dict(data: bytes) -> object:
    """The marshalled object in ``data``; MarshalError when it is not of the pstats subset."""
    reader = _Reader(data)
    result = reader.value()
    if reader.pos != len(data):
        raise MarshalError("has bytes after its data")
    return result
