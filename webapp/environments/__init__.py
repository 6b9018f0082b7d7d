"""Script environments: the Python installations whose packages uploaded scripts may import.

A script never sees the app's own venv (Flask, SQLAlchemy, the app's code and secrets).
It runs with the interpreter of a *script environment*: the operator's default one
(``flamedeck env install PKG``), or, for a script declaring PEP 723 dependencies the
default one lacks, a cached environment installed for exactly that resolved set.

Stdlib and ``packaging`` only; no Flask, no database.
"""

from .inline import InlineMetadata, InlineMetadataError, read_inline_metadata
from .script_env import ScriptEnvironmentError, ScriptEnvironment, default_environment_dir

__all__ = [
    "ScriptEnvironmentError",
    "InlineMetadata",
    "InlineMetadataError",
    "ScriptEnvironment",
    "default_environment_dir",
    "read_inline_metadata",
]
