"""JSON profile formats: parsed once, then recognised by their structure.

Several formats are JSON (Chrome's .cpuprofile and Trace Event files,
pyinstrument's session, the Firefox Profiler's). Their keys come in any order
and a big file's telling key can lie beyond the first bytes, so the registry
parses a JSON file once and asks each :class:`JsonImporter` whether the
*document* is its own. orjson refuses NaN, Infinity and nesting deeper than
1024 levels, which is what stops JSON bombs.
"""

from __future__ import annotations

import orjson

from webapp.profiles.importers.base import Importer
from webapp.profiles.model import Profile, ProfileFormatError

UTF8_BOM = b"\xef\xbb\xbf"


class JsonImporter(Importer):
    """An importer of a JSON format; the registry hands it the parsed document."""

    # Byte strings that, found near the start of a file, suggest this format:
    # used only to name the format when a file is not valid JSON (cut off).
    hints: tuple[bytes, ...] = ()

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """JSON importers are asked about documents, not bytes."""
        return False

    def recognizes_document(self, document: object) -> bool:
        raise NotImplementedError

    def load(self, data: bytes, filename: str = "") -> Profile:
        return self.load_document(parse_json(data, self.label), filename)

    def load_document(self, document: object, filename: str = "") -> Profile:
        raise NotImplementedError

    def suggested_by(self, head: bytes) -> bool:
        return bool(self.hints) and all(hint in head for hint in self.hints)


def looks_like_json(data: bytes) -> bool:
    start = data[:64].removeprefix(UTF8_BOM).lstrip()
    return start[:1] in (b"{", b"[")


def parse_json(data: bytes, label: str = "JSON") -> object:
    """orjson.loads with a sentence naming the format and where the file breaks."""
    try:
        return orjson.loads(data.removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError as error:
        text = str(error).lower()
        if "recursion" in text or "depth limit" in text:
            problem = "is nested more deeply than any profile needs (over 1024 levels), so it was refused"
        elif "infinity" in text or "nan" in text.split(":")[0]:
            problem = f"holds a number that is infinite or not a number (at byte {error.pos}), which no profile has"
        elif error.pos >= len(data.rstrip()) - 1:
            problem = "ends in the middle of its data, so it was probably cut off while being written or uploaded"
        else:
            problem = f"is not valid JSON (it breaks at byte {error.pos})"
        raise ProfileFormatError(f"This {label} file {problem}. Export or upload it again.") from error
