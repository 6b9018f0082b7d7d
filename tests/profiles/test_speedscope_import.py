"""Reading py-spy's speedscope files: given what py-spy wrote, the Profile says the same."""

from __future__ import annotations

import json
import re

import pytest

from webapp.profiles import load_profile
from webapp.profiles.importers.speedscope import read_parsed, read_scanned, read_speedscope
from webapp.profiles.importers.speedscope_scan import FastPathUnsuitable

SYNTHETIC_PROCESS_FRAME = re.compile(r"process \d+:")


def expected_samples(document: dict, index: int) -> list[tuple]:
    """Reference reading of one py-spy profile: every sample as (name, file, line) tuples,
    synthetic process frames removed - written the plain way, to check the fast one."""
    frames = document["shared"]["frames"]
    result = []
    for stack in document["profiles"][index]["samples"]:
        result.append(
            tuple(
                (frames[i]["name"], frames[i]["file"], frames[i]["line"])
                for i in stack
                if not (frames[i]["file"] == "" and SYNTHETIC_PROCESS_FRAME.match(frames[i]["name"]))
            )
        )
    return result


def expanded_samples(profile, thread) -> list[tuple]:
    """A thread's runs expanded back into one entry per sample."""
    result = []
    for stack_id, count in thread.runs():
        stack = tuple((f.name, f.file, f.line) for f in profile.frame_stack(stack_id))
        result.extend([stack] * count)
    return result


@pytest.mark.parametrize("name", ["single", "threads", "subprocesses"])
def test_every_sample_is_kept_in_time_order(pyspy_bytes, name):
    data = pyspy_bytes(name)
    document = json.loads(data)
    profile = load_profile(data, f"{name}.speedscope.json")
    assert len(profile.threads) == len(document["profiles"])
    for index, thread in enumerate(profile.threads):
        assert expanded_samples(profile, thread) == expected_samples(document, index)


@pytest.mark.parametrize("name", ["single", "threads", "subprocesses"])
def test_identical_consecutive_samples_are_merged(pyspy_bytes, name):
    profile = load_profile(pyspy_bytes(name))
    for thread in profile.threads:
        ids = list(thread.stack_ids)
        assert all(a != b for a, b in zip(ids, ids[1:]))
        assert all(count > 0 for count in thread.counts)
    assert profile.sample_count > len(profile.stacks)  # the fixture does repeat itself


def test_single_thread_file(pyspy_bytes):
    profile = load_profile(pyspy_bytes("single"), "single.speedscope.json")
    [thread] = profile.threads
    # py-spy wrote `Thread 12239 ""` (no name): the name stays empty, the id stands in for it on screen
    assert (thread.name, thread.tid, thread.process) == ("", 12239, "")
    assert thread.display_name == "Thread 12239"
    assert profile.name == "py-spy profile"
    assert profile.interval_s == pytest.approx(0.01)
    assert (profile.start_s, profile.end_s) == (0.0, pytest.approx(1.17))
    hottest = profile.frame_stack(thread.stack_counts().most_common(1)[0][0])
    assert [frame.name for frame in hottest] == ["<module>", "outer", "middle", "leaf"]  # root first
    assert hottest[-1].file == "/home/user/project/single.py"
    leaf_lines = {frame.line for frame in profile.frames if frame.name == "leaf"}
    assert leaf_lines == {6, 7}  # line-level: both loop lines were sampled


def test_four_threads_keep_their_names(pyspy_bytes):
    profile = load_profile(pyspy_bytes("threads"))
    names = [(thread.display_name, thread.tid, thread.process) for thread in profile.threads]
    assert names == [("MainThread", 12244, ""), ("worker-0", 12246, ""), ("worker-1", 12247, ""),
                     ("Thread 12249", 12249, "")]
    workers = [t for t in profile.threads if t.name != "MainThread"]
    for thread in workers:
        roots = {profile.frame_stack(stack_id)[0].name for stack_id in thread.stack_ids}
        assert roots == {"Thread._bootstrap"}


def test_subprocess_frames_are_stripped_and_the_process_kept(pyspy_bytes):
    data = pyspy_bytes("subprocesses")
    assert b'process 12257:\\"/home/user/venv/bin/python' in data  # what py-spy leaks
    profile = load_profile(data)
    assert not [f for f in profile.frames if SYNTHETIC_PROCESS_FRAME.match(f.name)]
    assert all("/home/user/venv/bin/python" not in f.name for f in profile.frames)
    assert {t.process for t in profile.threads} == {"pid 12252", "pid 12257", "pid 12258"}
    children = [t for t in profile.threads if t.process != "pid 12252"]
    assert [t.name for t in children] == ["MainThread", "MainThread"]
    for thread in children:
        for stack_id in thread.stack_ids:
            assert profile.frame_stack(stack_id)[0].name == "<module>"


@pytest.mark.parametrize("name", ["single", "threads", "subprocesses"])
def test_byte_scanner_and_parser_build_the_same_profile(pyspy_bytes, name):
    data = pyspy_bytes(name)
    assert read_scanned(data, name) == read_parsed(data, name)


def test_scanner_declines_a_pretty_printed_file_and_the_parser_reads_it(pyspy_bytes):
    data = pyspy_bytes("subprocesses")
    pretty = json.dumps(json.loads(data), indent=2).encode()
    with pytest.raises(FastPathUnsuitable):
        read_scanned(pretty)
    assert read_speedscope(pretty, fast_path_min_bytes=0) == read_parsed(data)


def test_name_comes_from_the_file_name_when_the_file_has_none(pyspy_bytes):
    document = json.loads(pyspy_bytes("single"))
    del document["name"]
    profile = load_profile(json.dumps(document).encode(), "uploads/bench.speedscope.json")
    assert profile.name == "bench"


def test_a_file_of_a_run_without_samples_is_an_empty_profile_not_an_error():
    # What py-spy writes when it took no sample: a valid file with an empty list.
    data = (b'{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[],'
            b'"shared":{"frames":[]},"activeProfileIndex":null,"exporter":"py-spy@0.4.3","name":"py-spy profile"}')
    profile = load_profile(data, "empty.speedscope.json")
    assert profile.sample_count == 0 and profile.threads == []
