"""speedscope's *evented* profiles: open (``O``) and close (``C``) events of frames.

What pyinstrument's ``-r speedscope``, many tracers and speedscope's own
converters write. The events of one profile are replayed in time order into a
stack; every stretch between two events weighs its length on the stack open
during it. Lengths are cut into samples of one interval with cumulative
rounding, so the total time is kept even when each stretch is shorter than
an interval. A close event that does not match the innermost open frame
closes up to the matching frame (or is skipped when none is open).
"""

from __future__ import annotations

import math

from webapp.profiles.importers.speedscope_frames import FrameTable
from webapp.profiles.model import ProfileFormatError, Thread

# Evented-only files are cut into about this many samples in all.
RESOLUTION = 100_000
MAX_RUN_COUNT = 2**32 - 1


def _events(item: dict, position: int) -> list[tuple[float, int, str]]:
    """(time, frame, "O"/"C") in time order; format errors for anything malformed."""
    events = item.get("events")
    if not isinstance(events, list):
        raise ProfileFormatError(
            f"Profile {position + 1} of this speedscope file is evented but has no list of events. Export it again."
        )
    result = []
    for order, event in enumerate(events):
        if not isinstance(event, dict) or event.get("type") not in ("O", "C"):
            raise ProfileFormatError(
                f"Event {order + 1} of profile {position + 1} of this speedscope file is not an open (O) or "
                "close (C) event. Export it again."
            )
        at, frame = event.get("at"), event.get("frame")
        if type(at) not in (int, float) or not math.isfinite(at) or type(frame) is not int:
            raise ProfileFormatError(
                f"Event {order + 1} of profile {position + 1} of this speedscope file has no numeric time (at) "
                "or frame number. Export it again."
            )
        result.append((float(at), frame, event["type"], order))
    result.sort(key=lambda event: (event[0], event[3]))
    return [event[:3] for event in result]


def evented_interval_s(items: list[tuple[int, dict]], seconds_per_unit: dict[str, float]) -> float:
    """An interval that cuts all evented profiles together into about RESOLUTION samples."""
    total = 0.0
    for position, item in items:
        events = _events(item, position)
        if events:
            total += (events[-1][0] - events[0][0]) * seconds_per_unit.get(item.get("unit"), 1.0)
    if total <= 0:
        return 0.001
    return float(f"1e{math.floor(math.log10(total / RESOLUTION))}")


def read_evented(
    thread: Thread, item: dict, position: int, frames: FrameTable, seconds_per_unit: float, interval_s: float
) -> None:
    """Fill ``thread`` from evented profile number ``position``."""
    segments: list[tuple[tuple[int, ...], float, float]] = []  # (stack, start, end) in file units
    open_frames: list[int] = []
    previous = None
    for at, frame, kind in _events(item, position):
        if previous is not None and at > previous and open_frames:
            segments.append((tuple(open_frames), previous, at))
        previous = at
        if kind == "O":
            open_frames.append(frame)
        elif frame in open_frames:
            del open_frames[len(open_frames) - 1 - open_frames[::-1].index(frame):]
    if not segments:
        return
    stack_ids = frames.stack_ids([stack for stack, _, _ in segments], position)
    origin = segments[0][1]
    scale = seconds_per_unit / interval_s
    for stack_id, (_, start, end) in zip(stack_ids, segments):
        count = round((end - origin) * scale) - round((start - origin) * scale)
        if count <= 0:
            continue
        try:
            if count > MAX_RUN_COUNT:
                raise OverflowError
            thread.append(stack_id, count)
        except OverflowError:
            raise ProfileFormatError(
                f"Profile {position + 1} of this speedscope file holds one stack for longer than flamedeck "
                "can count. Check its unit."
            ) from None
