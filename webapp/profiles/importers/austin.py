"""Austin's text output (``austin -o FILE python script.py``), Austin 3's format.

Metadata lines start with ``# `` (``# austin: 3.7.0``, ``# interval: 20000``,
``# mode: wall``); every other line is one sample, collapsed-style:
``P<pid>;T<interpreter>:<tid>;<file>:<function>:<line>;... <metric>`` with the
frames root first. The metric is microseconds in time modes (``wall``,
``cpu``); with ``-f`` (full metrics) it is ``time,idle,memory...`` and the first
number is the time. Memory-mode files (bytes, not time) are refused.

"""

from __future__ import annotations

import re

from webapp.profiles.importers.base import Importer, name_from_filename
from webapp.profiles.importers.building import ProfileBuilder, split_located_name
from webapp.profiles.model import Profile

LABEL = "Austin"
SAMPLE = re.compile(r"^P(?P<pid>\d+);T(?P<thread>[0-9a-fA-Fx:]+)(?P<frames>(?:;.*?)?) (?P<metric>\S+)$")
AUSTIN_MARK = b"# austin:"
SECONDS_PER_MICROSECOND = 1e-6
SNIFF_BYTES = 8 * 1024


class AustinImporter(Importer):
    name = "austin"
    description = "Austin's text output (`austin -o FILE`)"
    label = LABEL

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        head = data[:SNIFF_BYTES].lstrip()
        if head.startswith(AUSTIN_MARK):
            return True
        first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        return SAMPLE.match(first) is not None

    def load(self, data: bytes, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        text = data.decode("utf-8", errors="replace")
        metadata: dict[str, str] = {}
        samples = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                key, _, value = line[1:].partition(":")
                metadata[key.strip()] = value.strip()
                if metadata.get("mode") == "memory":
                    raise builder.error("is a memory profile (its weights are bytes, not time)",
                                        "Record a time profile with `austin` without `-m`.")
                continue
            match = SAMPLE.match(line)
            if match is None:
                raise builder.error(f"has a line that is not an Austin sample (line {number})")
            metric = match["metric"].split(",", 1)[0]
            try:
                weight = int(metric)
            except ValueError:
                raise builder.error(f"has a sample whose time is not a whole number (line {number})") from None
            tid = match["thread"].rsplit(":", 1)[-1]
            thread = builder.thread((match["pid"], tid), f"Thread {tid}", f"pid {match['pid']}")
            frames = tuple(_frame_id(builder, part) for part in match["frames"].split(";")[1:] if part)
            builder.add(thread, builder.stack(frames), weight)
            samples += 1
        if not samples:
            raise builder.error("has no samples")
        return builder.build(SECONDS_PER_MICROSECOND, integral=True)


def _frame_id(builder: ProfileBuilder, part: str) -> int:
    """``file:function:line`` (Austin 3) or ``function (file);L<line>`` (Austin 2)."""
    file, _, rest = part.rpartition(":")
    if file and rest.isascii() and rest.isdigit():
        file, _, function = file.rpartition(":")
        if file and function:
            return builder.frame(function, file, int(rest), key=part)
    name, located, line = split_located_name(part)
    return builder.frame(name, located, line, key=part)
