"""Helpers for stacks stored back to back (frame numbers, root first).

Stack ``i`` is ``frames[starts[i]:starts[i] + lengths[i]]``. A million-sample
profile has millions of such frame entries: :func:`blocks` cuts them into slices
of about :data:`BLOCK_FRAMES` entries, so that work done a block at a time keeps
its scratch memory to a few MB; the hash of every stack is one compiled pass
(:mod:`webapp.profiles.kernels.stacks`). Knows nothing of frames' meaning.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from webapp.profiles.kernels import stacks as stack_kernels

BLOCK_FRAMES = 1 << 20  # frame entries per block: 8 MB for an int64 scratch array
STACK_HASH_BASE = 0x9E3779B97F4A7C15  # odd: its powers never vanish modulo 2**64
STACK_HASH_LENGTH = 0xC2B2AE3D27D4EB4F
_MASK64 = (1 << 64) - 1
_powers: list[int] = [1]


def blocks(lengths: np.ndarray, block_frames: int | None = None) -> Iterator[slice]:
    """Consecutive slices of the stacks, each holding about ``block_frames`` (default
    BLOCK_FRAMES) frame entries: at least one stack, so a deeper stack makes a block
    of its own."""
    block_frames = block_frames or BLOCK_FRAMES  # the default read at each call: tests make blocks small
    ends = np.cumsum(lengths)
    begin = 0
    while begin < len(lengths):
        done = int(ends[begin - 1]) if begin else 0
        end = max(int(np.searchsorted(ends, done + block_frames, side="right")), begin + 1)
        yield slice(begin, end)
        begin = end


def power_table(count: int) -> list[int]:
    """STACK_HASH_BASE ** j modulo 2**64 for j < count (grown on demand, kept)."""
    while len(_powers) < count:
        _powers.append(_powers[-1] * STACK_HASH_BASE & _MASK64)
    return _powers


def stack_hash(stack: tuple[int, ...]) -> int:
    """The 64-bit hash of a stack; equal to what :func:`stack_hashes` gives it."""
    powers = power_table(len(stack))
    return (len(stack) * STACK_HASH_LENGTH + sum((f + 1) * p for f, p in zip(stack, powers))) & _MASK64


def stack_hashes(frames: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """:func:`stack_hash` of every stack, as uint64, in one compiled pass."""
    return stack_kernels.hashes(np.ascontiguousarray(frames, dtype=np.int32), np.ascontiguousarray(starts, dtype=np.int64),
                         np.ascontiguousarray(lengths, dtype=np.int64), STACK_HASH_BASE, STACK_HASH_LENGTH)
