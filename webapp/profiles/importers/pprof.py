"""pprof profiles (``.pb``, ``.pb.gz``): Go's runtime/pprof, Pyroscope, py-spy-pprof, ...

Read with Google's ``protobuf`` library (message types in :mod:`.pprof_schema`);
gzip is expanded by the registry. A sample lists location ids leaf first; a
location lists its lines innermost first (more than one line: inlined calls),
each naming a function; names and files are indexes into ``string_table``.

Which value is imported: a sample-count value (``samples``/``count``) when
the profile has one, else the default sample type (pprof's rule: the named
``default_sample_type``, else the last). Time units become seconds; a profile
whose values are all bytes or objects (a heap profile) is refused.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from webapp.profiles.importers.base import Importer, name_from_filename
from webapp.profiles.importers.building import ProfileBuilder
from webapp.profiles.importers.pprof_schema import ProfileMessage
from webapp.profiles.model import Profile

LABEL = "pprof"
SECONDS_PER_UNIT = {"nanoseconds": 1e-9, "microseconds": 1e-6, "milliseconds": 1e-3, "seconds": 1.0}
COUNT_TYPES = {"samples", "sample", "count"}
DEFAULT_INTERVAL_S = 0.01
# profile.proto's top-level fields -> wire type (0 varint, 2 length-delimited).
LENGTH_DELIMITED = 2
WIRE_TYPES = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 0, 8: 0, 9: 0, 10: 0, 11: 2, 12: 0, 13: 2, 14: 0, 15: 2}
SAMPLE_TYPE_FIELD, STRING_TABLE_FIELD = 1, 6
SNIFF_FIELDS = 32  # fields read from the start to recognise a pprof file
MAX_VARINT_BYTES = 10


class PprofImporter(Importer):
    name = "pprof"
    description = "pprof protobuf (`.pb` / `.pb.gz`, Go, Pyroscope)"
    label = LABEL

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """Its first fields are protobuf fields of pprof's Profile message, each with the
        wire type profile.proto gives it, and one of them declares sample types or
        strings (Go writes ``time_nanos`` first, others ``sample_type``). Reading stops
        at the first field that does not fit, so a file damaged further on is still
        recognised, and then reported as a damaged pprof file. Text never has the control
        bytes (below tab) that protobuf's small tags and lengths are made of."""
        if not any(byte < 9 for byte in data[:64]):
            return False
        position, seen = 0, set()
        for _ in range(SNIFF_FIELDS):
            tag, position = _varint(data, position)
            if tag is None or WIRE_TYPES.get(tag >> 3) != tag & 7:
                break
            value, position = _varint(data, position)
            if value is None:
                break
            if tag & 7 == LENGTH_DELIMITED:
                position += value
            seen.add(tag >> 3)
            if position >= len(data):
                break
        return bool(seen & {SAMPLE_TYPE_FIELD, STRING_TABLE_FIELD})

    def load(self, data: bytes, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        try:
            message = ProfileMessage.FromString(data)
        except (DecodeError, RecursionError, ValueError) as error:
            raise builder.error(f"is not a valid protobuf message ({str(error)[:80] or 'damaged'})",
                                "It may be cut off or not a pprof file; export it again.") from None
        strings = message.string_table

        def text(index: int, what: str) -> str:
            if not 0 <= index < len(strings):
                raise builder.error(f"refers to string {index} for a {what}, but has only {len(strings)} strings")
            return strings[index]

        if not message.sample_type:
            raise builder.error("declares no sample types, so its values mean nothing")
        types = [(text(t.type, "sample type"), text(t.unit, "sample unit")) for t in message.sample_type]
        column, unit_s = _chosen_value(builder, message, types, text)
        functions = {f.id: f for f in message.function}
        mappings = {m.id: m for m in message.mapping}
        locations = {loc.id: loc for loc in message.location}
        frames_of_location: dict[int, tuple[int, ...]] = {}

        def location_frames(location_id: int) -> tuple[int, ...]:
            cached = frames_of_location.get(location_id)
            if cached is not None:
                return cached
            location = locations.get(location_id)
            if location is None:
                raise builder.error(f"has a sample at location {location_id}, which it does not define")
            frames = []
            for line in reversed(location.line):  # caller first, like a stack
                function = functions.get(line.function_id)
                if function is None:
                    raise builder.error(f"has a location calling function {line.function_id}, which it does not define")
                name = text(function.name, "function name") or text(function.system_name, "function name")
                file = text(function.filename, "file name")
                frames.append(builder.frame(name or "[unknown]", file, line.line or function.start_line))
            if not frames:  # an unsymbolized address: name it after its binary
                mapping = mappings.get(location.mapping_id)
                binary = text(mapping.filename, "mapping file") if mapping is not None else ""
                frames.append(builder.frame(f"0x{location.address:x}", binary))
            frames_of_location[location_id] = cached = tuple(frames)
            return cached

        thread = builder.thread("all", "all threads")
        for sample in message.sample:
            if len(sample.value) != len(types):
                raise builder.error(f"has a sample with {len(sample.value)} values for {len(types)} sample types")
            stack: list[int] = []
            for location_id in reversed(sample.location_id):
                stack.extend(location_frames(location_id))
            builder.add(thread, builder.stack(tuple(stack)), sample.value[column])
        if not message.sample:
            raise builder.error("has no samples")
        profile = builder.build(unit_s, integral=True)
        if message.duration_nanos > 0:
            profile.end_s = message.duration_nanos * 1e-9
        return profile


def _chosen_value(builder, message, types, text) -> tuple[int, float]:
    """(index of the value to import, seconds it stands for per unit)."""
    period_s = DEFAULT_INTERVAL_S
    if message.HasField("period_type") and message.period > 0:
        factor = SECONDS_PER_UNIT.get(text(message.period_type.unit, "period unit"))
        if factor:
            period_s = message.period * factor
    for index, (kind, _) in enumerate(types):
        if kind in COUNT_TYPES:
            return index, period_s
    default = text(message.default_sample_type, "default sample type") if message.default_sample_type else ""
    index = next((i for i, (kind, _) in enumerate(types) if kind == default), len(types) - 1)
    factor = SECONDS_PER_UNIT.get(types[index][1])
    if factor is None:
        raise builder.error(
            f"holds {types[index][0]} in {types[index][1]}, not time or sample counts (a memory profile?)",
            "flamedeck shows CPU and wall-time profiles.",
        )
    return index, factor


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    value = shift = 0
    for offset in range(MAX_VARINT_BYTES):
        if position + offset >= len(data):
            return None, position
        byte = data[position + offset]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position + offset + 1
    return None, position
