"""Reading a script's PEP 723 block, and judging it against an environment (no installs here)."""

from __future__ import annotations

import pytest

from webapp.environments import InlineMetadataError, read_inline_metadata
from webapp.environments.dependencies import unmet


def test_a_block_gives_its_dependencies_and_python_and_none_gives_nothing():
    metadata = read_inline_metadata('#!/usr/bin/env python\n# /// script\n# requires-python = ">=3.10"\n'
                                    '# dependencies = [\n#   "numpy>=2",\n#   "rich",\n# ]\n# ///\nimport numpy\n')
    assert metadata.declared and metadata.texts == ("numpy>=2", "rich")
    assert metadata.python_allowed("3.11.2") and not metadata.python_allowed("3.9.18")
    assert not read_inline_metadata("import sys\n# not a block\n").declared


@pytest.mark.parametrize("source, words", [
    ("# /// script\n# dependencies = [\"numpy\"]\nx = 1\n", "cannot be read"),
    ("# /// script\n# dependencies = [numpy]\n# ///\n", "not valid TOML"),
    ("# /// script\n# dependencies = \"numpy\"\n# ///\n", "must be a list of strings"),
    ("# /// script\n# dependencies = [\"numpy>>2\"]\n# ///\n", "not a valid requirement"),
    ("# /// script\n# dependencies = [\"pkg @ https://example.invalid/pkg.whl\"]\n# ///\n", "names a URL"),
    ("# /// script\n# requires-python = \"three\"\n# ///\n", "not a valid version specifier"),
], ids=["unclosed", "toml", "not-a-list", "requirement", "url", "python"])
def test_a_broken_block_is_refused_with_a_sentence(source, words):
    with pytest.raises(InlineMetadataError, match=words):
        read_inline_metadata(source)


def test_unmet_lists_what_is_absent_or_too_old_and_skips_other_pythons_markers():
    metadata = read_inline_metadata('# /// script\n# dependencies = ["sortedcontainers>=2", "numpy>=2", '
                                    '"Six<1", "tomli; python_version < \'3.11\'"]\n# ///\n')
    installed = {"sortedcontainers": "2.4.0", "six": "1.16.0"}
    assert [str(r) for r in unmet(metadata.dependencies, installed, "3.11.2")] == ["numpy>=2", "Six<1"]
