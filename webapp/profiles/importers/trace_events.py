"""The Trace Event format (``chrome://tracing``, Perfetto): py-spy's ``--format
chrometrace``, VizTracer's JSON, Chrome DevTools' performance recordings.

Both forms are read: a bare JSON array of events, and ``{"traceEvents": [...]}``.
Events used (others - counters, flows, instant events - are skipped):

* ``M`` metadata ``thread_name`` / ``process_name``: names the threads;
* ``B`` / ``E`` begin and end, and ``X`` complete events (``ts`` + ``dur``, µs):
  per thread they are nested into stacks and every stretch of time between
  two events is weighed by its length; overlapping events that do not nest
  are clipped to their parent;
* DevTools' ``ProfileChunk`` events, which carry a sampled CPU profile: when a
  file has them, that profile is what is imported (its B/E events are browser
  internals, not the program's stacks).

A frame is named by ``name``; py-spy puts its file and line in ``args``,
VizTracer writes ``name (file:line)``; both become file and line.
"""

from __future__ import annotations

import math

from webapp.profiles.importers.base import name_from_filename
from webapp.profiles.importers.building import ProfileBuilder, split_located_name
from webapp.profiles.importers.chrome_cpuprofile import read_cpu_profile
from webapp.profiles.importers.json_input import JsonImporter
from webapp.profiles.model import Profile

LABEL = "Trace Event"
SECONDS_PER_MICROSECOND = 1e-6
DURATION_PHASES = {"B", "E", "X"}


class TraceEventImporter(JsonImporter):
    name = "trace-event"
    description = "Trace Event JSON (`py-spy --format chrometrace`, VizTracer, Chrome DevTools)"
    label = LABEL
    hints = (b'"ph"',)

    def recognizes_document(self, document: object) -> bool:
        events = _events(document)
        return events is not None and (not events or any(isinstance(e, dict) and "ph" in e for e in events[:1000]))

    def load_document(self, document: object, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        events = _events(document)
        if not events:
            raise builder.error("has no events")
        if not all(isinstance(event, dict) for event in events):
            raise builder.error("has an event that is not a JSON object")
        chunks = [e for e in events if e.get("name") in ("Profile", "ProfileChunk") and isinstance(e.get("args"), dict)]
        names = _thread_names(events)
        if chunks and _read_devtools_profiles(builder, chunks, names):
            return builder.build(SECONDS_PER_MICROSECOND)
        intervals: dict[tuple, list[tuple[float, float, int]]] = {}
        open_events: dict[tuple, list[tuple[float, int]]] = {}
        last_time: dict[tuple, float] = {}
        time_of = _time_of(builder)
        timed = sorted(((time_of(e), order, e) for order, e in enumerate(events) if e.get("ph") in DURATION_PHASES),
                       key=lambda item: item[:2])
        for start, _, event in timed:
            key = (_ident(event.get("pid")), _ident(event.get("tid")))
            last_time[key] = max(last_time.get(key, start), start)
            phase = event["ph"]
            if phase == "E":
                stack = open_events.get(key)
                if stack:  # an E without a B (the trace began inside a call) is dropped
                    begun, frame = stack.pop()
                    intervals.setdefault(key, []).append((begun, start, frame))
                continue
            frame = _frame_id(builder, event)
            if phase == "B":
                open_events.setdefault(key, []).append((start, frame))
            else:
                duration = builder.check_weight(event.get("dur", 0))
                intervals.setdefault(key, []).append((start, start + duration, frame))
                last_time[key] = max(last_time[key], start + duration)
        for key, stack in open_events.items():  # calls still running when the trace ended
            for begun, frame in stack:
                intervals.setdefault(key, []).append((begun, last_time[key], frame))
        if not intervals:
            raise builder.error("has no duration events (B/E or X) to build stacks from")
        for key in sorted(intervals, key=lambda k: (str(k[0]), str(k[1]))):
            pid, tid = key
            thread = builder.thread(key, names.get(key) or f"Thread {tid}", names.get((pid, None), f"pid {pid}"),
                                    tid if type(tid) is int else None)
            _add_intervals(builder, thread, intervals[key])
        return builder.build(SECONDS_PER_MICROSECOND)


def _events(document: object) -> list | None:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("traceEvents"), list):
        return document["traceEvents"]
    return None


def _ident(value: object) -> int | str | None:
    """A pid, tid or id as a dict key: numbers and text as they are, anything else as text."""
    if value is None or type(value) in (int, str):
        return value
    return str(value)[:40]


def _time_of(builder: ProfileBuilder):
    def time(event: dict) -> float:
        value = event.get("ts")
        if type(value) not in (int, float) or not math.isfinite(value):
            raise builder.error(f"has a {event.get('ph')} event without a numeric timestamp (ts)")
        return float(value)
    return time


def _thread_names(events: list[dict]) -> dict[tuple, str]:
    """(pid, tid) -> thread name, and (pid, None) -> process name, from M events."""
    names: dict[tuple, str] = {}
    for event in events:
        if event.get("ph") != "M" or not isinstance(event.get("args"), dict):
            continue
        name = event["args"].get("name")
        if not isinstance(name, str):
            continue
        if event.get("name") == "thread_name":
            names[(_ident(event.get("pid")), _ident(event.get("tid")))] = name
        elif event.get("name") == "process_name":
            names[(_ident(event.get("pid")), None)] = name
    return names


def _frame_id(builder: ProfileBuilder, event: dict) -> int:
    name = event.get("name")
    if not isinstance(name, str):
        raise builder.error("has a duration event without a name")
    args = event.get("args") if isinstance(event.get("args"), dict) else {}
    file, line = args.get("filename"), args.get("line")
    if isinstance(file, str):
        return builder.frame(name, file, line if type(line) is int else 0)
    cached = builder.cached_frame(name)
    return cached if cached is not None else builder.frame(*split_located_name(name), key=name)


def _add_intervals(builder: ProfileBuilder, thread, intervals: list[tuple[float, float, int]]) -> None:
    """Nest one thread's (start, end, frame) intervals and weigh each stretch between events."""
    intervals.sort(key=lambda item: (item[0], -item[1]))
    ends: list[float] = []
    frames: list[int] = []
    cursor = intervals[0][0]
    current = builder.stack(())

    def advance(to: float) -> None:
        nonlocal cursor
        if to > cursor:
            if frames:
                builder.add(thread, current, to - cursor)
            cursor = to

    for start, end, frame in intervals:
        while ends and ends[-1] <= start:
            advance(ends.pop())
            frames.pop()
            current = builder.stack(tuple(frames))
        advance(start)
        ends.append(min(end, ends[-1]) if ends else end)  # clip a call that outlives its caller
        frames.append(frame)
        current = builder.stack(tuple(frames))
    while ends:
        advance(ends.pop())
        frames.pop()
        current = builder.stack(tuple(frames))


def _read_devtools_profiles(builder: ProfileBuilder, chunks: list[dict], names: dict[tuple, str]) -> bool:
    """DevTools' Profile/ProfileChunk events -> one thread per profile; False if none has samples.

    Chunks are written by V8's profiler thread; the ``Profile`` event that starts a
    profile is on the thread profiled, so that is the thread the samples belong to."""
    merged: dict[tuple, dict] = {}
    profiled_thread: dict[tuple, object] = {}
    for event in chunks:
        key = (_ident(event.get("pid")), _ident(event.get("id")))
        if event.get("name") == "Profile":
            profiled_thread[key] = _ident(event.get("tid"))
            continue
        data = event["args"].get("data")
        if not isinstance(data, dict):
            continue
        profile = merged.setdefault(key, {"nodes": [], "samples": [], "timeDeltas": [], "tid": _ident(event.get("tid"))})
        cpu = data.get("cpuProfile") if isinstance(data.get("cpuProfile"), dict) else {}
        for field, source in (("nodes", cpu), ("samples", cpu), ("timeDeltas", data)):
            values = source.get(field, [])
            if not isinstance(values, list):
                raise builder.error(f"has a ProfileChunk whose {field} is not a list")
            profile[field].extend(values)
    found = False
    for (pid, profile_id), profile in merged.items():
        if profile["samples"]:
            tid = profiled_thread.get((pid, profile_id), profile["tid"])
            thread = builder.thread((pid, profile_id), names.get((pid, tid)) or f"Thread {tid}",
                                    names.get((pid, None), f"pid {pid}"), tid if type(tid) is int else None)
            read_cpu_profile(builder, thread, profile)
            found = True
    return found
