"""The compiled kernels' contracts at their edges: text layout, hashing, refusals of bad indexes."""

from __future__ import annotations

import numpy as np
import pytest

from webapp.profiles import stack_arrays
from webapp.profiles.kernels import samples, stacks, text

TEXTS = np.frombuffer(b"ab" + b"c" + b"", dtype=np.uint8)  # frame 0 "ab", frame 1 "c", frame 2 ""
TEXT_ENDS = np.array([2, 3, 3], dtype=np.int64)
FRAMES = np.array([0, 1, 2, 1], dtype=np.int32)
STARTS = np.array([0, 3, 4], dtype=np.int64)
LENGTHS = np.array([3, 1, 0], dtype=np.int64)


def test_stack_text_joins_frames_and_reports_where_each_stack_ends():
    ends = np.empty(3, dtype=np.int64)
    written = text.stack_text(TEXTS, TEXT_ENDS, FRAMES, STARTS, LENGTHS, np.array([0, 1, 2]), b";", b"<", b">",
                              b"|", ends=ends)
    assert written == b"<ab;c;>|<c>|<>"
    assert ends.tolist() == [7, 11, 14]
    lines = text.stack_text(TEXTS, TEXT_ENDS, FRAMES, STARTS, LENGTHS, np.array([1, 0]), b";", b"", b" ", b"",
                            np.array([7, 1234567890123], dtype=np.int64))
    assert lines == b"c 7\nab;c; 1234567890123\n"


def test_joined_rows_copies_rows_in_any_order():
    blob = np.frombuffer(b"onetwothree", dtype=np.uint8)
    assert text.joined_rows(blob, np.array([3, 6, 11]), np.array([2, 0, 2]), b",") == b"three,one,three"
    assert text.joined_rows(blob, np.array([3, 6, 11]), np.array([], dtype=np.int64), b",") == b""


@pytest.mark.parametrize("chosen, frames, message", [
    ([3], FRAMES, "chosen stack is out of range"),
    ([-1], FRAMES, "chosen stack is out of range"),
    ([0], np.array([0, 1, 7, 1], dtype=np.int32), "frame index is out of range"),
])
def test_stack_text_refuses_indexes_out_of_range(chosen, frames, message):
    with pytest.raises(ValueError, match=message):
        text.stack_text(TEXTS, TEXT_ENDS, frames, STARTS, LENGTHS, np.array(chosen), b";", b"", b"", b"")


def test_joined_rows_refuses_rows_outside_the_blob():
    blob = np.frombuffer(b"abc", dtype=np.uint8)
    with pytest.raises(ValueError, match="outside the blob"):
        text.joined_rows(blob, np.array([2, 5]), np.array([0]), b"")
    with pytest.raises(ValueError, match="chosen row is out of range"):
        text.joined_rows(blob, np.array([1, 3]), np.array([2]), b"")


def test_hashes_equal_the_python_stack_hash_and_gathers_copy_stacks():
    hashed = stack_arrays.stack_hashes(FRAMES, STARTS, LENGTHS)
    assert hashed.tolist() == [stack_arrays.stack_hash((0, 1, 2)), stack_arrays.stack_hash((1,)), stack_arrays.stack_hash(())]
    gathered = np.frombuffer(stacks.gathered(FRAMES, STARTS[[1, 0]], LENGTHS[[1, 0]]), dtype=np.int32)
    assert gathered.tolist() == [1, 0, 1, 2]
    with pytest.raises(ValueError, match="outside the frame array"):
        stacks.gathered(FRAMES, np.array([3]), np.array([2]))


def test_the_sample_scanner_keeps_many_distinct_stacks_apart():
    # More distinct stacks than the scanner's first hash table holds: it grows and rehashes.
    written = [f"{i},{i % 7},{i * 31 % 1000}" for i in range(20_000)]
    order = [*written, *reversed(written)]
    frames, lengths, run_ids, run_starts, count = samples.scan_samples("],[".join(order).encode(), 0,
                                                                        len("],[".join(order)))
    assert count == 40_000 and len(lengths) == 20_000
    # the middle two samples are the same stack: one run
    assert run_ids.tolist() == [*range(20_000), *reversed(range(19_999))]
    assert run_starts[20_000] == 20_001
    assert frames[:6].tolist() == [0, 0, 0, 1, 1, 31]
