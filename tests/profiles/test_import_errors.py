"""Foreign or broken files: one clear ProfileFormatError, with a sentence a user understands."""

from __future__ import annotations

import json

import pytest

from webapp.profiles import ProfileFormatError, load_profile
from webapp.profiles.importers import find_importer
from webapp.profiles.importers.speedscope import read_speedscope

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def load_error(data: bytes, filename: str = "", **options) -> str:
    """The message of the ProfileFormatError raised for ``data``."""
    with pytest.raises(ProfileFormatError) as caught:
        if options:
            read_speedscope(data, filename, **options)
        else:
            load_profile(data, filename)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith("."), message
    assert "Traceback" not in message and "\n" not in message
    return message


@pytest.mark.parametrize("data", [b"", b"  \n\t "], ids=["empty", "blank"])
def test_an_empty_file_says_so(data):
    assert "The file is empty" in load_error(data)


@pytest.mark.parametrize(
    "data",
    [
        PNG_HEADER,
        bytes(range(256)) * 4,
        b'{"hello": "world"}',
        b"[1, 2, 3]",
        b"Dear diary,\nprofiling today.\n",
        b"\xef\xbb\xbf{}",
    ],
    ids=["png", "binary", "other-json-object", "json-array", "prose", "bom-empty-object"],
)
def test_a_foreign_file_is_not_mine_and_the_user_is_told_what_we_read(data):
    assert find_importer(data) is None  # no importer throws on foreign input
    message = load_error(data, "holiday.png")
    assert message.startswith("The file “holiday.png” is not in a profile format flamedeck can read.")
    assert "py-spy record --format speedscope" in message


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_a_cut_off_file_says_it_was_cut_off(pyspy_bytes, keep):
    data = pyspy_bytes("threads")
    assert "cut off" in load_error(data[: int(len(data) * keep)])


def test_a_big_cut_off_file_is_refused_without_parsing_it(pyspy_bytes):
    data = pyspy_bytes("threads")
    assert "cut off" in load_error(data[:-5], fast_path_min_bytes=0)


def test_broken_json_inside_says_where(pyspy_bytes):
    data = pyspy_bytes("threads").replace(b'"unit":"seconds"', b'"unit":seconds"', 1)
    assert "is not valid JSON (it breaks at byte" in load_error(data)


def make_file(**changes) -> bytes:
    document = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "main"}, {"name": "work"}]},
        "profiles": [
            {
                "type": "sampled",
                "name": "t",
                "unit": "seconds",
                "startValue": 0,
                "endValue": 0.02,
                "samples": [[0, 1], [0]],
                "weights": [0.01, 0.01],
            }
        ],
    }
    profile_changes = changes.pop("profile", {})
    document["profiles"][0].update(profile_changes)
    document.update(changes)
    return json.dumps(document, separators=(",", ":")).encode()


@pytest.mark.parametrize("fast_path_min_bytes", [0, 10**9], ids=["scanner", "parser"])
@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"profile": {"samples": [[0, 7]], "weights": [0.01]}},
            "refers to frame 7, but this speedscope file defines only 2 frames",
        ),
        ({"profile": {"samples": [[0, 1], [0], [1]]}}, "has a different number of samples and weights"),
        ({"profile": {"weights": [0.01, "x"]}}, "has weights that are not a list of numbers"),
        ({"profile": {"samples": [[0, "main"], [0]]}}, "holding something other than frame numbers"),
        ({"profile": {"samples": [[0, [1]], [0]]}}, "not a list of frame numbers"),
        ({"profile": {"unit": "parsecs"}}, "has the unknown unit 'parsecs'"),
        ({"profile": {"type": "evented"}}, "is evented but has no list of events"),
        ({"profiles": {}}, "has no list of profiles"),
        ({"shared": {}}, "has no frame table"),
        ({"shared": {"frames": [{"name": "main"}, {"file": "x.py"}]}}, "Frame 1 of this speedscope file has no name"),
    ],
    ids=["frame-out-of-range", "more-samples-than-weights", "text-weight", "text-frame", "nested-stack",
         "unknown-unit", "evented-without-events", "profiles-not-a-list", "no-frames", "nameless-frame"],
)
def test_a_damaged_speedscope_file_says_what_is_wrong(changes, expected, fast_path_min_bytes):
    message = load_error(make_file(**changes), fast_path_min_bytes=fast_path_min_bytes)
    assert expected in message


def test_the_well_formed_base_file_of_those_tests_reads_fine():
    profile = load_profile(make_file())
    assert profile.sample_count == 2
    assert [f.name for f in profile.frames] == ["main", "work"]
