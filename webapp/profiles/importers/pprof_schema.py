"""pprof's message types (perftools.profiles, profile.proto) for the ``protobuf`` library.

The messages are described here as a ``FileDescriptorProto`` built in Python,
the same thing ``protoc`` would produce from profile.proto, so that reading a
pprof file needs only the ``protobuf`` package: no protoc or grpcio-tools at
setup, no generated ``_pb2.py`` to keep in step. Only the fields flamedeck
reads are declared; protobuf skips the others (mappings' build ids, labels ...).
Field numbers and types follow the published profile.proto.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "flamedeck.pprof"
_T = descriptor_pb2.FieldDescriptorProto
INT64, UINT64, STRING, MESSAGE = _T.TYPE_INT64, _T.TYPE_UINT64, _T.TYPE_STRING, _T.TYPE_MESSAGE
ONE, MANY = _T.LABEL_OPTIONAL, _T.LABEL_REPEATED

# message name -> [(field name, number, type, label, message type name or "")]
MESSAGES: dict[str, list[tuple[str, int, int, int, str]]] = {
    "ValueType": [("type", 1, INT64, ONE, ""), ("unit", 2, INT64, ONE, "")],
    "Sample": [("location_id", 1, UINT64, MANY, ""), ("value", 2, INT64, MANY, "")],
    "Mapping": [("id", 1, UINT64, ONE, ""), ("filename", 5, INT64, ONE, "")],
    "Line": [("function_id", 1, UINT64, ONE, ""), ("line", 2, INT64, ONE, "")],
    "Location": [
        ("id", 1, UINT64, ONE, ""), ("mapping_id", 2, UINT64, ONE, ""),
        ("address", 3, UINT64, ONE, ""), ("line", 4, MESSAGE, MANY, "Line"),
    ],
    "Function": [
        ("id", 1, UINT64, ONE, ""), ("name", 2, INT64, ONE, ""), ("system_name", 3, INT64, ONE, ""),
        ("filename", 4, INT64, ONE, ""), ("start_line", 5, INT64, ONE, ""),
    ],
    "Profile": [
        ("sample_type", 1, MESSAGE, MANY, "ValueType"), ("sample", 2, MESSAGE, MANY, "Sample"),
        ("mapping", 3, MESSAGE, MANY, "Mapping"), ("location", 4, MESSAGE, MANY, "Location"),
        ("function", 5, MESSAGE, MANY, "Function"), ("string_table", 6, STRING, MANY, ""),
        ("time_nanos", 9, INT64, ONE, ""), ("duration_nanos", 10, INT64, ONE, ""),
        ("period_type", 11, MESSAGE, ONE, "ValueType"), ("period", 12, INT64, ONE, ""),
        ("default_sample_type", 14, INT64, ONE, ""),
    ],
}


def _build_profile_class():
    file = descriptor_pb2.FileDescriptorProto(name="flamedeck_pprof.proto", package=PACKAGE, syntax="proto3")
    for message_name, fields in MESSAGES.items():
        message = file.message_type.add(name=message_name)
        for field_name, number, kind, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = f".{PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.Profile"))


ProfileMessage = _build_profile_class()
