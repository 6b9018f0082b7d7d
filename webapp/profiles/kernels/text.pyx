# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Stacks written out as text in one pass: speedscope's ``[3,2,1],[4]`` and collapsed lines.

Each frame's text is given once (all back to back, with where each ends); the loop copies
them into one bytes object of the exact size, instead of building a bytes object per stack
and joining them.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.string cimport memcpy


cdef inline Py_ssize_t decimal_size(int64_t value) noexcept nogil:
    cdef Py_ssize_t size = 1
    while value >= 10:
        value //= 10
        size += 1
    return size


cdef inline char* put(char* out, const char* text, Py_ssize_t size) noexcept nogil:
    # Most pieces are a few bytes (a frame number, a separator): two overlapping copies of
    # a fixed size, which the compiler turns into plain moves, beat a call to memcpy.
    if size > 16:
        memcpy(out, text, size)
    elif size >= 8:
        memcpy(out, text, 8)
        memcpy(out + size - 8, text + size - 8, 8)
    elif size >= 4:
        memcpy(out, text, 4)
        memcpy(out + size - 4, text + size - 4, 4)
    elif size >= 2:
        memcpy(out, text, 2)
        memcpy(out + size - 2, text + size - 2, 2)
    elif size == 1:
        out[0] = text[0]
    return out + size


def stack_text(const uint8_t[::1] texts, const int64_t[::1] text_ends, const int32_t[::1] frames,
               const int64_t[::1] starts, const int64_t[::1] lengths, const int64_t[::1] chosen,
               bytes separator, bytes opening, bytes closing, bytes between, const int64_t[::1] counts=None,
               int64_t[::1] ends=None):
    """The ``chosen`` stacks as one bytes object: for each, ``opening``, its frames' texts
    joined by ``separator``, ``closing``, then (when ``counts`` is given) its count in decimal
    and a newline; ``between`` goes between two stacks. ``ends``, when given, receives where
    each chosen stack's text ends.

    Frame ``f``'s text is ``texts[text_ends[f - 1]:text_ends[f]]``; stack ``s`` is
    ``frames[starts[s]:starts[s] + lengths[s]]``. ValueError for an index out of range."""
    cdef Py_ssize_t frame_count = text_ends.shape[0], stack_count = starts.shape[0]
    cdef Py_ssize_t k, i, stack, total = 0
    cdef int64_t frame
    cdef const char* problem = NULL
    cdef bint counted = counts is not None, ended = ends is not None
    if lengths.shape[0] != stack_count or (counted and counts.shape[0] != chosen.shape[0]) \
            or (ended and ends.shape[0] != chosen.shape[0]):
        raise ValueError("the arrays differ in length")
    if frame_count and (text_ends[frame_count - 1] > texts.shape[0] or text_ends[0] < 0):
        raise ValueError("a frame's text lies outside the texts")
    cdef Py_ssize_t sep_size = len(separator), open_size = len(opening), close_size = len(closing)
    cdef Py_ssize_t between_size = len(between)
    with nogil:  # the exact size, and every index checked (without the GIL: other threads go on)
        for i in range(1, frame_count):
            if text_ends[i] < text_ends[i - 1]:
                problem = "the text ends are not in order"
                break
        for k in range(chosen.shape[0]):
            if problem != NULL:
                break
            stack = chosen[k]
            if stack < 0 or stack >= stack_count:
                problem = "a chosen stack is out of range"
                break
            if starts[stack] < 0 or lengths[stack] < 0 or starts[stack] + lengths[stack] > frames.shape[0]:
                problem = "a stack lies outside the frame array"
                break
            total += open_size + close_size + (between_size if k else 0)
            if lengths[stack]:
                total += sep_size * (lengths[stack] - 1)
            for i in range(starts[stack], starts[stack] + lengths[stack]):
                frame = frames[i]
                if frame < 0 or frame >= frame_count:
                    problem = "a frame index is out of range"
                    break
                total += text_ends[frame] - (text_ends[frame - 1] if frame else 0)
            if counted:
                if counts[k] < 0:
                    problem = "a count is negative"
                    break
                total += decimal_size(counts[k]) + 1
            if ended:
                ends[k] = total
    if problem != NULL:
        raise ValueError(problem.decode())
    result = PyBytes_FromStringAndSize(NULL, total)
    cdef char* out = PyBytes_AS_STRING(result)
    cdef const char* text = <const char*>&texts[0] if texts.shape[0] else NULL
    cdef const char* sep = separator
    cdef const char* opening_text = opening
    cdef const char* closing_text = closing
    cdef const char* between_text = between
    cdef int64_t begin, value
    cdef Py_ssize_t digits, d
    with nogil:
        for k in range(chosen.shape[0]):
            stack = chosen[k]
            if k:
                out = put(out, between_text, between_size)
            out = put(out, opening_text, open_size)
            for i in range(starts[stack], starts[stack] + lengths[stack]):
                if i > starts[stack]:
                    out = put(out, sep, sep_size)
                frame = frames[i]
                begin = text_ends[frame - 1] if frame else 0
                out = put(out, text + begin, text_ends[frame] - begin)
            out = put(out, closing_text, close_size)
            if counted:
                value = counts[k]
                digits = decimal_size(value)
                for d in range(digits - 1, -1, -1):
                    out[d] = <char>(48 + value % 10)
                    value //= 10
                out[digits] = 10  # "\n"
                out += digits + 1
    return result


def joined_rows(const uint8_t[::1] blob, const int64_t[::1] row_ends, const int64_t[::1] chosen, bytes between):
    """``blob``'s rows ``chosen`` (row ``r`` is ``blob[row_ends[r - 1]:row_ends[r]]``) joined by
    ``between``. ValueError for an index out of range."""
    cdef Py_ssize_t row_count = row_ends.shape[0], k, row, total = 0
    cdef Py_ssize_t between_size = len(between)
    cdef const char* problem = NULL
    if row_count and (row_ends[0] < 0 or row_ends[row_count - 1] > blob.shape[0]):
        raise ValueError("a row lies outside the blob")
    with nogil:
        for k in range(1, row_count):
            if row_ends[k] < row_ends[k - 1]:
                problem = "the row ends are not in order"
                break
        for k in range(chosen.shape[0]):
            if problem != NULL:
                break
            row = chosen[k]
            if row < 0 or row >= row_count:
                problem = "a chosen row is out of range"
                break
            total += row_ends[row] - (row_ends[row - 1] if row else 0) + (between_size if k else 0)
    if problem != NULL:
        raise ValueError(problem.decode())
    result = PyBytes_FromStringAndSize(NULL, total)
    cdef char* out = PyBytes_AS_STRING(result)
    cdef const char* source = <const char*>&blob[0] if blob.shape[0] else NULL
    cdef const char* between_text = between
    cdef int64_t begin
    with nogil:
        for k in range(chosen.shape[0]):
            row = chosen[k]
            if k:
                out = put(out, between_text, between_size)
            begin = row_ends[row - 1] if row else 0
            out = put(out, source + begin, row_ends[row] - begin)
    return result
