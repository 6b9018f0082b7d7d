"""The byte scanner and the plain parser agree on every layout a speedscope file may have.

The scanner is what reads big py-spy files; whenever a file is laid out in a
way it does not expect, it must step aside, never guess.
"""

from __future__ import annotations

import json
import random
import threading

import pytest

from webapp.profiles import load_profile
from webapp.profiles.importers.speedscope import FAST_PATH_MIN_BYTES, read_parsed, read_scanned, read_speedscope
from webapp.profiles.importers.speedscope_scan import FastPathUnsuitable

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"


def pyspy_like_document(samples_per_thread: int, threads: int = 3, seed: int = 7) -> dict:
    """A py-spy style document (compact, col: null, one weight per sample, runs of stacks)."""
    rng = random.Random(seed)
    frames = [
        {"name": f"func_{i}", "file": f"/app/module_{i % 9}.py", "line": 10 + i, "col": None} for i in range(300)
    ]
    frames.append({"name": 'process 42:"/usr/bin/python app.py"', "file": "", "line": 0, "col": None})
    pool = [[len(frames) - 1] + rng.sample(range(300), rng.randint(1, 25)) for _ in range(400)]
    profiles = []
    for k in range(threads):
        samples = []
        while len(samples) < samples_per_thread:
            samples.extend([rng.choice(pool)] * rng.randint(1, 8))
        samples = samples[:samples_per_thread]
        profiles.append(
            {
                "type": "sampled",
                "name": f'Process 42 Thread {100 + k} "worker-{k}"',
                "unit": "seconds",
                "startValue": 0.0,
                "endValue": samples_per_thread * 0.01,
                "samples": samples,
                "weights": [0.01] * samples_per_thread,
            }
        )
    return {
        "$schema": SCHEMA_URL,
        "profiles": profiles,
        "shared": {"frames": frames},
        "activeProfileIndex": None,
        "exporter": "py-spy@0.4.3",
        "name": "py-spy profile",
    }


def compact(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def weights_first(document):
    for item in document["profiles"]:
        samples, weights = item.pop("samples"), item.pop("weights")
        item.update(weights=weights, samples=samples)  # samples last: "...]]}" follows them
    return document


def with_empty_stacks(document):
    document["profiles"][0]["samples"][3:6] = [[], [], []]
    return document


def with_an_empty_profile(document):
    document["profiles"].append(dict(document["profiles"][0], name="Thread 9 \"idle\"", samples=[], weights=[]))
    return document


def in_milliseconds(document):
    for item in document["profiles"]:
        item.update(unit="milliseconds", endValue=item["endValue"] * 1000, weights=[10.0] * len(item["weights"]))
    return document


def with_an_evented_profile(document):
    evented = {"type": "evented", "name": "trace", "unit": "none", "startValue": 0, "endValue": 2,
               "events": [{"type": "O", "frame": 0, "at": 0}, {"type": "C", "frame": 0, "at": 2}]}
    document["profiles"].insert(1, evented)
    return document


def with_uneven_weights(document):
    rng = random.Random(3)
    for item in document["profiles"]:
        item["weights"] = [0.01 * rng.randint(1, 4) for _ in item["weights"]]
    return document


def with_shared_last(document):
    return {"shared": document["shared"], **{k: v for k, v in document.items() if k != "shared"}}


COMPACT_VARIANTS = [
    weights_first,
    with_empty_stacks,
    with_an_empty_profile,
    in_milliseconds,
    with_an_evented_profile,
    with_uneven_weights,
    with_shared_last,
]


@pytest.mark.parametrize("variant", COMPACT_VARIANTS, ids=lambda v: v.__name__)
def test_scanner_reads_compact_variants_like_the_parser(variant):
    data = compact(variant(pyspy_like_document(2_000)))
    scanned = read_scanned(data)  # no FastPathUnsuitable: the scanner handled it itself
    assert scanned == read_parsed(data)
    assert scanned.sample_count > 0


def test_milliseconds_become_the_same_profile_as_seconds():
    seconds = read_parsed(compact(pyspy_like_document(500)))
    milliseconds = read_parsed(compact(in_milliseconds(pyspy_like_document(500))))
    assert milliseconds == seconds
    assert milliseconds.interval_s == pytest.approx(0.01)


def test_uneven_weights_become_sample_counts():
    document = with_uneven_weights(pyspy_like_document(300, threads=1))
    profile = read_scanned(compact(document))
    expected = round(sum(document["profiles"][0]["weights"]) / 0.01)
    assert profile.sample_count == expected


@pytest.mark.parametrize(
    "dump",
    [
        lambda d: json.dumps(d).encode(),  # ", " and ": " separators
        lambda d: json.dumps(d, indent=1).encode(),
        lambda d: compact(d).replace(b"],[", b"], ["),
        lambda d: compact(d).replace(b'"samples":[[', b'"samples":[ ['),
    ],
    ids=["spaces", "indented", "space-between-stacks", "space-after-bracket"],
)
def test_scanner_steps_aside_for_other_layouts(dump):
    document = pyspy_like_document(1_000)
    data = dump(document)
    with pytest.raises(FastPathUnsuitable):
        read_scanned(data)
    assert read_speedscope(data, fast_path_min_bytes=0) == read_parsed(compact(document))


def test_a_file_over_the_threshold_takes_the_fast_road_with_the_same_result():
    data = compact(pyspy_like_document(12_000))
    assert len(data) >= FAST_PATH_MIN_BYTES
    profile = load_profile(data, "big.speedscope.json")
    assert profile == read_parsed(data, "big.speedscope.json")
    assert profile.sample_count == 3 * 12_000
    assert {thread.process for thread in profile.threads} == {"pid 42"}
    assert not [frame for frame in profile.frames if frame.name.startswith("process ")]


def test_a_late_profile_that_is_not_compact_sends_the_whole_file_to_the_parser_and_stops_the_scans():
    # The scanner reads the threads' samples in the background; the third thread's has a space.
    document = pyspy_like_document(3_000, threads=4)
    data = compact(document)
    third = data.index(b'"samples":[[', data.index(b'"samples":[[', data.index(b'"samples":[[') + 1) + 1)
    data = data[:third] + data[third:].replace(b"],[", b"], [", 1)
    with pytest.raises(FastPathUnsuitable):
        read_scanned(data)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("scan")]
    assert read_speedscope(data, fast_path_min_bytes=0) == read_parsed(compact(document))
