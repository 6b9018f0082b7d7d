"""PEP 723 inline script metadata: which packages and Python a script says it needs.

The ``# /// script`` block is found by ``ducktools-scriptmetadata`` (a small, maintained
parser that follows the packaging specification, including its warnings about unclosed
blocks); its TOML is read with the stdlib's ``tomllib``; requirement strings and the
Python specifier are checked with ``packaging``, the reference implementation of
both formats. Nothing here installs or runs anything.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from ducktools.scriptmetadata import parse_source
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

BLOCK = "script"


class InlineMetadataError(ValueError):
    """The script's metadata block cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class InlineMetadata:
    """What a script declared; empty when it has no ``# /// script`` block."""

    dependencies: tuple[Requirement, ...] = ()
    requires_python: SpecifierSet | None = None
    declared: bool = False  # True when the block exists (even with no dependencies)
    texts: tuple[str, ...] = field(default=())  # the dependency strings as written

    def python_allowed(self, version: str) -> bool:
        """True when ``version`` (e.g. "3.11.2") meets ``requires-python``."""
        return self.requires_python is None or self.requires_python.contains(version, prereleases=True)


def read_inline_metadata(source: str) -> InlineMetadata:
    """The script's PEP 723 metadata; raise InlineMetadataError on a block that is not valid."""
    if "# /// " + BLOCK not in source:
        return InlineMetadata()  # the common case, without a second pass over the source
    parsed = parse_source(source)
    text = parsed.blocks.get(BLOCK)
    if text is None:
        detail = "; ".join(warning.message for warning in parsed.warnings) or "it is not closed by '# ///'"
        raise InlineMetadataError(f"The script's '# /// script' metadata block cannot be read: {detail}")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InlineMetadataError(f"The script's '# /// script' block is not valid TOML ({error}).") from None
    return InlineMetadata(
        dependencies=tuple(_requirements(table.get("dependencies", []))),
        requires_python=_python_specifier(table.get("requires-python")),
        declared=True,
        texts=tuple(str(item) for item in table.get("dependencies", []) if isinstance(item, str)),
    )


def _requirements(items: object) -> list[Requirement]:
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InlineMetadataError("In the '# /// script' block, 'dependencies' must be a list of strings.")
    requirements = []
    for item in items:
        try:
            requirement = Requirement(item)
        except InvalidRequirement as error:
            raise InlineMetadataError(f"The dependency {item!r} is not a valid requirement ({error}).") from None
        if requirement.url:
            raise InlineMetadataError(
                f"The dependency {item!r} names a URL; only packages by name (and version) can be installed here."
            )
        requirements.append(requirement)
    return requirements


def _python_specifier(value: object) -> SpecifierSet | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InlineMetadataError("In the '# /// script' block, 'requires-python' must be a string such as \">=3.10\".")
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        raise InlineMetadataError(f"'requires-python = {value!r}' is not a valid version specifier.") from None
