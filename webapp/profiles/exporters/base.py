"""The contract every exporter follows.

An exporter is a small class: ``name`` (its id in URLs and the registry),
``file_suffix`` (appended to the report name for downloads), ``media_type``
(the HTTP Content-Type) and ``render(profile) -> bytes``. Options, such as
line- or function-level frames, go to the constructor, so a configured
exporter renders any number of profiles the same way.
"""

from __future__ import annotations

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

    def render(self, profile: Profile) -> bytes:
        """The file's bytes for ``profile``; the same profile always gives the same bytes."""
        raise NotImplementedError
