# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Stacks stored back to back, hashed and compared in one pass each.

Stack ``i`` is ``frames[starts[i]:starts[i] + lengths[i]]``. The hash is the polynomial of
:func:`webapp.profiles.stack_arrays.stack_hash` (unsigned arithmetic wraps modulo 2**64 in
C as the Python version masks), so both give every stack the same number.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize

import numpy as np


cdef check(const int32_t[::1] frames, const int64_t[::1] starts, const int64_t[::1] lengths):
    cdef Py_ssize_t i
    if starts.shape[0] != lengths.shape[0]:
        raise ValueError("starts and lengths differ in length")
    for i in range(starts.shape[0]):
        if starts[i] < 0 or lengths[i] < 0 or starts[i] + lengths[i] > frames.shape[0]:
            raise ValueError("a stack lies outside the frame array")


def hashes(const int32_t[::1] frames, const int64_t[::1] starts, const int64_t[::1] lengths,
           uint64_t base, uint64_t length_factor):
    """Per stack: ``length * length_factor + sum((frame_j + 1) * base**j)`` modulo 2**64."""
    check(frames, starts, lengths)
    result = np.empty(starts.shape[0], dtype=np.uint64)
    cdef uint64_t[::1] out = result
    cdef Py_ssize_t i, j
    cdef uint64_t h, power
    with nogil:
        for i in range(starts.shape[0]):
            h = <uint64_t>lengths[i] * length_factor
            power = 1
            for j in range(starts[i], starts[i] + lengths[i]):
                h += <uint64_t>(<int64_t>frames[j] + 1) * power
                power *= base
            out[i] = h
    return result


def rows_equal(const int32_t[::1] frames, const int64_t[::1] starts, const int64_t[::1] lengths,
               const int32_t[::1] table_frames, const int64_t[::1] table_starts, const int64_t[::1] table_lengths,
               const int64_t[::1] ids):
    """Per row ``i``: is stack ``i`` the same as the table's stack ``ids[i]``?"""
    check(frames, starts, lengths)
    check(table_frames, table_starts, table_lengths)
    cdef Py_ssize_t i, k, n = starts.shape[0], table_count = table_starts.shape[0]
    if ids.shape[0] != n:
        raise ValueError("ids and stacks differ in length")
    for i in range(n):
        if ids[i] < 0 or ids[i] >= table_count:
            raise ValueError("a stack id is out of range")
    result = np.ones(n, dtype=bool)
    cdef unsigned char[::1] same = result.view(np.uint8)
    cdef int64_t a, b
    with nogil:
        for i in range(n):
            if lengths[i] != table_lengths[ids[i]]:
                same[i] = 0
                continue
            a = starts[i]
            b = table_starts[ids[i]]
            for k in range(lengths[i]):
                if frames[a + k] != table_frames[b + k]:
                    same[i] = 0
                    break
    return result


def gathered(const int32_t[::1] frames, const int64_t[::1] starts, const int64_t[::1] lengths):
    """The stacks' frames back to back, as the bytes of native int32s (what array("i")
    and numpy read)."""
    check(frames, starts, lengths)
    cdef Py_ssize_t i, total = 0
    for i in range(starts.shape[0]):
        total += lengths[i]
    result = PyBytes_FromStringAndSize(NULL, total * sizeof(int32_t))
    cdef int32_t* out = <int32_t*>PyBytes_AS_STRING(result)
    with nogil:
        for i in range(starts.shape[0]):
            if lengths[i]:
                memcpy(out, &frames[starts[i]], lengths[i] * sizeof(int32_t))
                out += lengths[i]
    return result
