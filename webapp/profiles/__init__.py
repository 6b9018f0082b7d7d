"""Profiles: the one Profile model, an importer per input format, an exporter per output format.

Plain library (stdlib, orjson, numpy, and protobuf for pprof files): no Flask, no database.
"""

from webapp.profiles.exporters import EXPORTERS, Exporter, get_exporter
from webapp.profiles.importers import IMPORTERS, load_profile
from webapp.profiles.model import Frame, Profile, ProfileFormatError, Thread

__all__ = [
    "EXPORTERS",
    "IMPORTERS",
    "Exporter",
    "Frame",
    "Profile",
    "ProfileFormatError",
    "Thread",
    "get_exporter",
    "load_profile",
]
