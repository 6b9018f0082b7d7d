"""``perf script`` text: what Linux perf prints for recorded samples (``perf record -g``).

Each sample is a header line - ``comm pid[/tid] [cpu] time: [period] event:`` -
followed by one indented line per frame, leaf first: ``address symbol+offset
(dso)``, and a blank line. The same input as ``stackcollapse-perf.pl``, with
its variants:

* several events in one file (``cpu-clock`` and ``page-faults``): each event
  becomes its own set of threads, named ``comm pid/tid (event)``, since adding
  page faults to clock ticks means nothing; the event with most samples comes first;
* kernel frames (``[kernel.kallsyms]``) keep their dso as their file;
* ``[unknown]`` symbols are named after their dso (``[unknown] libc.so.6``) so
  that unrelated unknown frames are not merged into one;
* inlined frames (``perf script --inline``) are lines ending in ``(inlined)``;
* each sample counts once, as stackcollapse-perf.pl counts them (the period
  column, when present, is in the event's own unit: nanoseconds, faults ...).
"""

from __future__ import annotations

import re

from webapp.profiles.importers.base import Importer, name_from_filename
from webapp.profiles.importers.building import ProfileBuilder
from webapp.profiles.model import Profile

LABEL = "perf script"
# comm may contain spaces; then pid[/tid], an optional [cpu], the time, an optional period, the event.
HEADER = re.compile(
    r"^(?P<comm>\S.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>\d+))?\s+(?:\[\d+\]\s+)?"
    r"(?P<time>\d+\.\d+):\s+(?:(?P<period>\d+)\s+)?(?P<event>[^\s:]+(?::[a-zA-Z]*)?):?"
)
FRAME = re.compile(r"^\s*(?:(?P<address>[0-9a-fA-F]+)\s+)?(?P<symbol>.*?)(?:\s+\((?P<dso>[^()]*)\))?$")
OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")
SNIFF_BYTES = 16 * 1024
UNKNOWN = "[unknown]"
DEFAULT_INTERVAL_S = 0.001  # perf's default is 4000 Hz; without a clock period we cannot tell
CLOCK_EVENTS = {"cpu-clock", "task-clock"}  # their period is in nanoseconds


class PerfScriptImporter(Importer):
    name = "perf-script"
    description = "`perf script` text output (Linux perf)"
    label = LABEL

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """A sample header line followed by an indented frame line, near the start."""
        text = data[:SNIFF_BYTES].decode("utf-8", errors="replace")
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        for first, second in zip(lines, lines[1:]):
            if HEADER.match(first) and second[:1] in (" ", "\t"):
                return True
        return False

    def load(self, data: bytes, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        text = data.decode("utf-8", errors="replace")
        per_event: dict[str, int] = {}
        clock_periods: list[int] = []  # ns per sample of a clock event: the sampling interval
        samples: list[tuple[str, str, float, list[str]]] = []
        header = None
        frames: list[str] = []
        for number, line in enumerate(text.splitlines() + [""], start=1):
            if line.startswith("#"):
                continue
            if not line.strip():
                if header is not None:
                    samples.append((*header, frames))
                header, frames = None, []
                continue
            if line[:1] in (" ", "\t"):
                if header is None:
                    raise builder.error(f"has a frame line before any sample header (line {number})")
                frames.append(line.strip())
                continue
            if header is not None:  # a header right after another: a sample without a stack
                samples.append((*header, frames))
                frames = []
            match = HEADER.match(line)
            if match is None:
                raise builder.error(f"has a line that is neither a sample header nor a frame (line {number})")
            thread = f"{match['comm']} {match['pid']}" + (f"/{match['tid']}" if match["tid"] else "")
            event = match["event"].rstrip(":")
            header = (thread, event, 1.0)
            if match["period"] and event in CLOCK_EVENTS:
                clock_periods.append(int(match["period"]))
            per_event[event] = per_event.get(event, 0) + 1
        if not samples:
            raise builder.error("has no samples")
        several = len(per_event) > 1
        order = sorted(per_event, key=lambda event: -per_event[event])
        for event in order:  # create threads event by event: the main event's come first
            for thread_label, sample_event, period, sample_frames in samples:
                if sample_event != event:
                    continue
                name = f"{thread_label} ({event})" if several else thread_label
                thread = builder.thread((thread_label, event), name)
                stack = tuple(_frame_id(builder, frame) for frame in reversed(sample_frames))
                builder.add(thread, builder.stack(stack), period)
        interval_s = sorted(clock_periods)[len(clock_periods) // 2] * 1e-9 if clock_periods else DEFAULT_INTERVAL_S
        return builder.build(interval_s or DEFAULT_INTERVAL_S, integral=True)


def _frame_id(builder: ProfileBuilder, line: str) -> int:
    """One frame line -> frame id; cached on the line without its address."""
    match = FRAME.match(line)
    symbol, dso = match["symbol"], match["dso"] or ""
    if dso == "inlined":  # `perf script --inline`: a call the compiler inlined, no dso of its own
        dso = ""
    symbol = OFFSET.sub("", symbol) or UNKNOWN
    if symbol == UNKNOWN and dso:
        symbol = f"{UNKNOWN} {dso.rsplit('/', 1)[-1]}"
    return builder.frame(symbol, dso)
