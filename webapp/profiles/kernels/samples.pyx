# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A speedscope samples array read in one pass over its bytes: runs of repeated stacks and the
distinct stacks' frame numbers.

py-spy (and orjson) write ``[[3,2,1],[3,2,1],[4]]`` with no whitespace. A sample equal to the
one before it (most of them) costs a ``memchr`` and a ``memcmp``; a new one is hashed and looked
up among the stacks seen; only a stack seen for the first time has its digits read. Anything
not written that way - a space, a leading zero, an empty number, more than MAX_DIGITS digits -
raises :class:`NotCompact`, and the caller reads the file the ordinary way.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy, memset

import numpy as np

cdef enum:
    MAX_DIGITS = 9  # longer frame numbers go to the ordinary parser (which judges them)


class NotCompact(ValueError):
    """The samples are not laid out as the compact scanner expects."""


cdef struct Growing:  # a malloc'd int64 array that doubles when full
    int64_t* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int grow_push(Growing* array, int64_t value) except -1 nogil:
    cdef int64_t* bigger
    if array.size == array.capacity:
        bigger = <int64_t*>realloc(array.data, 2 * array.capacity * sizeof(int64_t))
        if bigger == NULL:
            with gil:
                raise MemoryError()
        array.data = bigger
        array.capacity *= 2
    array.data[array.size] = value
    array.size += 1
    return 0


cdef int grow_init(Growing* array, Py_ssize_t capacity) except -1:
    array.data = <int64_t*>malloc(capacity * sizeof(int64_t))
    if array.data == NULL:
        raise MemoryError()
    array.size = 0
    array.capacity = capacity
    return 0


cdef object grow_to_numpy(Growing* array, object dtype):
    result = np.empty(array.size, dtype=np.int64)
    cdef int64_t[::1] view = result
    if array.size:
        memcpy(&view[0], array.data, array.size * sizeof(int64_t))
    return result.astype(dtype, copy=False)


cdef inline uint64_t hash_bytes(const uint8_t* text, Py_ssize_t length) noexcept nogil:
    """A 64-bit hash of a stack's text, eight bytes at a time (multiply and fold)."""
    cdef uint64_t h = 0x9E3779B97F4A7C15ULL ^ <uint64_t>length, word
    cdef Py_ssize_t i = 0
    while i + 8 <= length:
        memcpy(&word, text + i, 8)
        h = (h ^ word) * 0xFF51AFD7ED558CCDULL
        h ^= h >> 32
        i += 8
    if i < length:
        word = 0
        memcpy(&word, text + i, length - i)
        h = (h ^ word) * 0xC4CEB9FE1A85EC53ULL
        h ^= h >> 29
    return h


cdef int reserve(Growing* array, Py_ssize_t more) except -1 nogil:
    """Room for ``more`` values past the end, so that they can be written without checks."""
    cdef Py_ssize_t capacity = array.capacity
    cdef int64_t* bigger
    while array.size + more > capacity:
        capacity *= 2
    if capacity != array.capacity:
        bigger = <int64_t*>realloc(array.data, capacity * sizeof(int64_t))
        if bigger == NULL:
            with gil:
                raise MemoryError()
        array.data = bigger
        array.capacity = capacity
    return 0


cdef int parse_stack(const uint8_t* text, Py_ssize_t length, Growing* frames) except -1 nogil:
    """Append the frame numbers of ``3,2,1`` to ``frames``; -2 when not compact JSON integers."""
    cdef Py_ssize_t i = 0, digits
    cdef int64_t value
    if length == 0:
        return 0
    reserve(frames, (length + 1) // 2)  # at most one number per two bytes
    cdef int64_t* out = frames.data + frames.size
    while True:
        digits = 0
        value = 0
        while i < length and 48 <= text[i] <= 57:
            value = value * 10 + (text[i] - 48)
            digits += 1
            i += 1
        if digits == 0 or digits > MAX_DIGITS or (digits > 1 and text[i - digits] == 48):
            return -2
        out[0] = value
        out += 1
        frames.size += 1
        if i == length:
            return 0
        if text[i] != 44:  # ","
            return -2
        i += 1


def scan_samples(const uint8_t[::1] data, Py_ssize_t start, Py_ssize_t end):
    """The samples in ``data[start:end]`` (``1,2],[3``: outer brackets excluded), as

    (frames, lengths, run_ids, run_starts): the distinct stacks in order of first
    appearance, back to back (int64 frame numbers, root first as written) with their
    lengths, and per run of equal consecutive samples the distinct stack's number
    (uint32) and the index of its first sample (int64); plus the number of samples.
    """
    if start < 0 or end > data.shape[0] or start > end:
        raise ValueError("span outside the data")
    cdef const uint8_t* text = &data[0] if data.shape[0] else NULL
    cdef Growing frames, lengths, offsets, sizes, run_ids, run_starts
    grow_init(&frames, 1024)
    grow_init(&lengths, 256)
    grow_init(&offsets, 256)  # each distinct stack's text: where it starts in data, and its size
    grow_init(&sizes, 256)
    grow_init(&run_ids, 1024)
    grow_init(&run_starts, 1024)
    cdef Py_ssize_t slots = 1 << 12, mask, slot, i
    cdef int64_t* table = <int64_t*>malloc(slots * sizeof(int64_t))  # distinct number + 1, 0 = free
    cdef uint64_t* hashes = NULL
    cdef int64_t* bigger_table
    cdef Py_ssize_t pos = start, sample_end, next_pos, previous_start = -1, previous_size = -1
    cdef Py_ssize_t size, sample = 0, found
    cdef const uint8_t* bracket
    cdef uint64_t h
    cdef int status = 0
    cdef Growing stack_hashes
    grow_init(&stack_hashes, 256)
    try:
        if table == NULL:
            raise MemoryError()
        memset(table, 0, slots * sizeof(int64_t))
        with nogil:
            while pos <= end:
                bracket = <const uint8_t*>memchr(text + pos, 93, end - pos) if end > pos else NULL  # "]"
                if bracket == NULL:
                    sample_end = end
                    next_pos = end + 1
                else:
                    sample_end = bracket - text
                    if sample_end + 3 > end or text[sample_end + 1] != 44 or text[sample_end + 2] != 91:  # ",["
                        status = -2
                        break
                    next_pos = sample_end + 3
                size = sample_end - pos
                if size == previous_size and memcmp(text + pos, text + previous_start, size) == 0:
                    pos = next_pos
                    sample += 1
                    continue
                h = hash_bytes(text + pos, size)
                mask = slots - 1
                slot = <Py_ssize_t>(h & mask)
                found = -1
                while table[slot]:
                    i = table[slot] - 1
                    if <uint64_t>stack_hashes.data[i] == h and sizes.data[i] == size and \
                            memcmp(text + offsets.data[i], text + pos, size) == 0:
                        found = i
                        break
                    slot = (slot + 1) & mask
                if found < 0:
                    found = lengths.size
                    i = frames.size
                    if parse_stack(text + pos, size, &frames) != 0:
                        status = -2
                        break
                    grow_push(&lengths, frames.size - i)
                    grow_push(&offsets, pos)
                    grow_push(&sizes, size)
                    grow_push(&stack_hashes, <int64_t>h)
                    table[slot] = found + 1
                    if 2 * lengths.size > slots:  # keep the table at most half full
                        with gil:
                            bigger_table = <int64_t*>realloc(table, 2 * slots * sizeof(int64_t))
                            if bigger_table == NULL:
                                raise MemoryError()
                            table = bigger_table
                        slots *= 2
                        mask = slots - 1
                        memset(table, 0, slots * sizeof(int64_t))
                        for i in range(lengths.size):
                            slot = <Py_ssize_t>(<uint64_t>stack_hashes.data[i] & mask)
                            while table[slot]:
                                slot = (slot + 1) & mask
                            table[slot] = i + 1
                if found > <Py_ssize_t>0xFFFFFFFF:
                    status = -2
                    break
                grow_push(&run_ids, found)
                grow_push(&run_starts, sample)
                previous_start = pos
                previous_size = size
                pos = next_pos
                sample += 1
        if status:
            raise NotCompact("a sample is not a compact list of frame numbers")
        return (grow_to_numpy(&frames, np.int64), grow_to_numpy(&lengths, np.int64),
                grow_to_numpy(&run_ids, np.uint32), grow_to_numpy(&run_starts, np.int64), sample)
    finally:
        free(table)
        free(frames.data)
        free(lengths.data)
        free(offsets.data)
        free(sizes.data)
        free(run_ids.data)
        free(run_starts.data)
        free(stack_hashes.data)
