"""The contract every exporter follows.

An exporter is a small class: ``name`` (its id in URLs and the registry),
``file_suffix`` (appended to the report name for downloads), ``media_type``
(the HTTP Content-Type), and two ways to get the file: ``write(profile, out)``
streams it into a binary file object, ``render(profile) -> bytes`` returns it.
A subclass overrides one of them and inherits the other: formats that can be
hundreds of MB (speedscope, collapsed) override ``write``, so that the whole
text never has to exist in memory when it goes to a file or a compressor; small
ones (the flame tree, the SVG) override ``render``. Options, such as line- or
function-level frames, go to the constructor, so a configured exporter renders
any number of profiles the same way.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from webapp.profiles.model import Profile


class Exporter:
    """Base class: one subclass per output format."""

    name: str = ""
    file_suffix: str = ""
    media_type: str = "application/octet-stream"

    def __init__(self, line_level: bool = False):
        self.line_level = line_level

    def frames_of(self, profile: Profile) -> Profile:
        """The profile at the level of detail this exporter was asked for."""
        return profile if self.line_level else profile.function_level()

    def write(self, profile: Profile, out: BinaryIO) -> None:
        """Write the file for ``profile`` to ``out``, in pieces."""
        if type(self).render is Exporter.render:
            raise NotImplementedError(f"{type(self).__name__} overrides neither write nor render")
        out.write(self.render(profile))

    def render(self, profile: Profile) -> bytes:
        """The file's bytes for ``profile``; the same profile always gives the same bytes."""
        if type(self).write is Exporter.write:
            raise NotImplementedError(f"{type(self).__name__} overrides neither write nor render")
        out = io.BytesIO()  # hands its buffer over without a copy
        self.write(profile, out)
        return out.getvalue()
