"""The array layout of the Profile model: stack table, call tree, bulk building and parsing."""

from __future__ import annotations

import random

import numpy as np
import pytest

from webapp.profiles import Frame, Profile
from webapp.profiles.kernels import samples


def _random_profile(seed: int) -> Profile:
    rng = random.Random(seed)
    profile = Profile(name=f"random-{seed}")
    frames = [profile.intern_frame(Frame(rng.choice("abcde"), rng.choice(["x.py", "y.py"]), rng.randint(0, 4)))
              for _ in range(12)]
    stacks = [profile.intern_stack(tuple(rng.choice(frames) for _ in range(rng.randint(0, 7)))) for _ in range(40)]
    for name in ("MainThread", "worker"):
        thread = profile.add_thread(name)
        for _ in range(60):
            thread.append(rng.choice(stacks), rng.randint(1, 3))
    return profile


def _reference_tree(profile: Profile) -> list[tuple[tuple[int, ...], int]]:
    """(path of frame ranks, samples ending there) for every node, in pre-order: sorted paths."""
    rank = {index: key for key, index in enumerate(sorted(
        range(len(profile.frames)), key=lambda i: (profile.frames[i].name, profile.frames[i].file, profile.frames[i].line)))}
    ending: dict[tuple[int, ...], int] = {(): 0}
    for stack_id, count in profile.stack_counts().items():
        path = tuple(rank[f] for f in profile.stacks[stack_id])
        for depth in range(len(path) + 1):
            ending.setdefault(path[:depth], 0)
        ending[path] += count
    return sorted(ending.items())


@pytest.mark.parametrize("seed", range(8))
def test_call_tree_matches_a_plain_reading_of_the_stacks(seed):
    profile = _random_profile(seed)
    tree = profile.call_tree()
    reference = _reference_tree(profile)
    selves = tree.selves(profile.stack_weights())
    assert [len(path) for path, _ in reference] == tree.depth.tolist()
    assert [count for _, count in reference] == selves.tolist()
    totals = tree.totals(selves)
    for node, (path, _) in enumerate(reference):
        assert totals[node] == sum(count for other, count in reference if other[:len(path)] == path)
        if node:
            assert reference[tree.parent[node]][0] == path[:-1]
    assert totals[0] == profile.sample_count


def test_stack_table_reads_like_a_list_of_tuples_and_bulk_interning_agrees():
    profile = Profile()
    assert profile.intern_stack((3, 1)) == 0
    assert profile.intern_stack(()) == 1
    assert profile.intern_stack([3, 1]) == 0  # any sequence of the same frames is the same stack
    ids = profile.intern_stacks(np.array([3, 1, 2, 3, 1], dtype=np.int32), np.array([2, 1, 0, 2]))
    assert ids.tolist() == [0, 2, 1, 0]
    assert list(profile.stacks) == [(3, 1), (), (2,)]
    assert profile.stacks.index(()) == 1
    assert profile.stacks[-1] == (2,)


def test_mapped_drops_frames_and_merges_the_runs_that_became_one_stack():
    profile = Profile()
    keep, drop = profile.intern_frame(Frame("keep", "a.py", 1)), profile.intern_frame(Frame("drop", "b.py", 2))
    thread = profile.add_thread("t")
    for stack, count in (((keep,), 2), ((keep, drop), 3), ((drop,), 4), ((keep,), 1)):
        thread.append(profile.intern_stack(stack), count)
    mapped = profile.mapped(lambda frame: None if frame.name == "drop" else frame)
    only = mapped.threads[0]
    assert [(mapped.stacks[s], c) for s, c in only.runs()] == [((0,), 5), ((), 4), ((0,), 1)]
    assert profile.function_level() is profile.function_level()  # built once, then cached


def scan(text: bytes):
    return samples.scan_samples(text, 0, len(text))


def test_the_sample_scanner_reads_compact_numbers_and_counts_runs():
    frames, lengths, run_ids, run_starts, count = scan(b"3,2,1],[3,2,1],[],[40],[3,2,1],[0,10],[0,10")
    assert frames.tolist() == [3, 2, 1, 40, 0, 10]
    assert lengths.tolist() == [3, 0, 1, 2]
    assert run_ids.tolist() == [0, 1, 2, 0, 3]
    assert run_starts.tolist() == [0, 2, 3, 4, 5]
    assert count == 7
    assert scan(b"")[4] == 1  # "[[]]": one empty sample


def test_the_sample_scanner_refuses_what_is_not_compact():
    for bad in (b"1,,2", b",1", b"1,", b"01", b"1234567890", b"1 2", b"1;2", b"-1", b"1.5", b"1],2", b"1]", b"[1]"):
        with pytest.raises(samples.NotCompact):
            scan(b"5],[" + bad)


def test_stacks_whose_hashes_collide_stay_apart(monkeypatch):
    from webapp.profiles import stack_arrays

    monkeypatch.setattr(stack_arrays, "stack_hash", lambda stack: 7)
    monkeypatch.setattr(stack_arrays, "stack_hashes", lambda frames, starts, lengths: np.full(len(lengths), 7, np.uint64))
    profile = Profile()
    assert [profile.intern_stack(s) for s in ((1, 2), (2, 1), (1, 2), ())] == [0, 1, 0, 2]
    ids = profile.intern_stacks(np.array([2, 1, 5, 1, 2, 5], dtype=np.int32), np.array([2, 1, 0, 2, 1]))
    assert ids.tolist() == [1, 3, 2, 0, 3]
    assert list(profile.stacks) == [(1, 2), (2, 1), (), (5,)]


@pytest.mark.parametrize("block_frames", [1, 7, 1 << 20])
def test_whole_array_stack_helpers_agree_with_one_stack_at_a_time(monkeypatch, block_frames):
    """Hashes and gathers give the same answer however the stacks are cut into blocks."""
    from webapp.profiles import stack_arrays
    from webapp.profiles.kernels import stacks as stack_kernels

    monkeypatch.setattr(stack_arrays, "BLOCK_FRAMES", block_frames)
    rng = np.random.default_rng(5)
    stacks = [tuple(rng.integers(0, 50, size=int(rng.integers(0, 12))).tolist()) for _ in range(300)]
    lengths = np.array([len(stack) for stack in stacks], dtype=np.int64)
    frames = np.array([frame for stack in stacks for frame in stack], dtype=np.int32)
    starts = np.cumsum(lengths) - lengths
    assert stack_arrays.stack_hashes(frames, starts, lengths).tolist() == list(map(stack_arrays.stack_hash, stacks))
    chosen = np.array([299, 3, 3, 0, 150])
    expected = [frame for row in chosen for frame in stacks[row]]
    gathered = stack_kernels.gathered(frames, starts[chosen], lengths[chosen])
    assert np.frombuffer(gathered, dtype=np.int32).tolist() == expected
    assert sum(part.stop - part.start for part in stack_arrays.blocks(lengths)) == len(stacks)


def test_runs_appended_as_arrays_merge_like_one_by_one_and_refuse_overlong_runs():
    from webapp.profiles.model import RUN_COUNT_MAX, Thread

    by_arrays, one_by_one = Thread("t"), Thread("t")
    for thread in (by_arrays, one_by_one):
        thread.append(4, 2)
    runs = [(4, 3), (4, 1), (7, 5), (2, 1), (2, 2), (7, 1)]
    by_arrays.extend_runs(np.array([s for s, _ in runs]), np.array([c for _, c in runs], dtype=np.uint32))
    for stack_id, count in runs:
        one_by_one.append(stack_id, count)
    assert list(by_arrays.runs()) == list(one_by_one.runs()) == [(4, 6), (7, 5), (2, 3), (7, 1)]
    with pytest.raises(OverflowError):
        Thread("t").extend_runs(np.array([1, 1]), np.array([RUN_COUNT_MAX, 1], dtype=np.uint64))
