"""Fuzzing every importer (hypothesis, bounded): whatever the bytes, the only exception
is ProfileFormatError, and no input takes more than a second.

Two kinds of input per format: a real fixture damaged at random (cut, bytes
overwritten, bytes inserted) and, for JSON formats, the fixture's document with
one value somewhere replaced by arbitrary JSON (wrong types, huge or negative
numbers, deep lists). Each importer's ``load`` is called directly, so damaged
files that would no longer be recognised are still read by their own importer.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from webapp.profiles import ProfileFormatError
from webapp.profiles.importers import IMPORTERS, JSON_IMPORTERS, read_profile

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
# CI runs a fixed set of examples (derandomized: the same inputs every run, so a pass
# stays a pass); `FUZZ_EXAMPLES=1500 pytest tests/profiles/test_fuzz_importers.py`
# searches afresh and far longer, by hand. Each input gets at most one second.
DEEP_SEARCH = "FUZZ_EXAMPLES" in os.environ
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "80")), deadline=1000, derandomize=not DEEP_SEARCH,
                suppress_health_check=[HealthCheck.too_slow], database=None)

BYTE_FIXTURES = {  # importer name -> a real file of its format (small: fuzzing cost follows size)
    "speedscope": "pyinstrument.speedscope.json",
    "pstats": "cprofile.prof",
    "pprof": "go-style.pb.gz",
    "austin": "austin.txt",
    "perf-script": "perf-inline.script.txt",
    "collapsed": "pyspy.raw.txt",
}
JSON_FIXTURES = {
    "cpuprofile": "node.cpuprofile",
    "trace-event": "chromium.trace.json",
    "pyinstrument": "pyinstrument.json",
    "gecko": "cpython315.gecko.json",
}
# By name; the byte-level speedscope importer wins over its schema-less JSON twin (same builder).
IMPORTER = {importer.name: importer for importer in [*JSON_IMPORTERS, *IMPORTERS]}


def fixture_bytes(name: str) -> bytes:
    data = (FORMATS / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """``data`` cut, overwritten or grown at a random place."""
    where = draw(st.integers(0, len(data)))
    kind = draw(st.sampled_from(["cut", "overwrite", "insert"]))
    if kind == "cut":
        return data[:where]
    noise = draw(st.binary(min_size=1, max_size=16) | st.sampled_from(
        [b"-1", b"NaN", b"1e999", b"null", b"[]", b"{}", b'"x"', b";", b"\n", b"\x00", b"99999999999"]))
    return data[:where] + noise + data[where + (len(noise) if kind == "overwrite" else 0):]


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@st.composite
def replaced_somewhere(draw, document: object) -> object:
    """A copy of ``document`` with one value, chosen by a random walk, replaced by arbitrary JSON."""
    root = json.loads(json.dumps(document))
    parent, key, node = None, None, root
    for _ in range(draw(st.integers(0, 8))):
        if isinstance(node, dict) and node:
            parent, key = node, draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            parent, key = node, draw(st.integers(0, len(node) - 1))
        else:
            break
        node = parent[key]
    replacement = draw(ANY_JSON)
    if parent is None:
        return replacement
    parent[key] = replacement
    return root


def only_format_errors(call) -> None:
    try:
        call()
    except ProfileFormatError as error:
        assert str(error).strip()


@pytest.mark.parametrize("name", sorted(BYTE_FIXTURES))
def test_a_damaged_file_gives_a_format_error_or_a_profile(name):
    importer, data = IMPORTER[name], fixture_bytes(BYTE_FIXTURES[name])

    @FUZZ
    @given(damaged(data))
    def check(mutated):
        only_format_errors(lambda: importer.load(mutated, "fuzz"))
        only_format_errors(lambda: read_profile(mutated, "fuzz"))

    check()


@pytest.mark.parametrize("name", sorted(JSON_FIXTURES))
def test_a_json_document_with_a_wrong_value_gives_a_format_error_or_a_profile(name):
    importer, data = IMPORTER[name], fixture_bytes(JSON_FIXTURES[name])

    @FUZZ
    @given(replaced_somewhere(json.loads(data)), damaged(data))
    def check(document, mutated):
        if importer.recognizes_document(document):
            only_format_errors(lambda: importer.load_document(document, "fuzz"))
        only_format_errors(lambda: read_profile(mutated, "fuzz"))

    check()


@FUZZ
@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_a_format_error_or_a_profile(data):
    only_format_errors(lambda: read_profile(data, "fuzz"))
