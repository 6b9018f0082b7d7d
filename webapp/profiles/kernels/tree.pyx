# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Call-tree walks: the tree of sorted stacks in one pass (pre-order nodes, parents, subtree
ends, leaves), self and total per key over it, and its level-by-level layout.

Every index a loop reads (stack spans, stack ids, frames against the rank or key table) is
checked up front; the loops then run without bounds checks. Checks and loops alike run
without the GIL, so that the threads writing a report's downloads overlap.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.string cimport memcmp
from libc.stdlib cimport free, malloc

import numpy as np


cdef check_stacks(const int32_t[::1] frames, const int64_t[::1] starts, const int64_t[::1] lengths,
                  const int64_t[::1] stack_ids, int64_t stack_count):
    """ValueError unless every stack lies inside ``frames`` and every stack id is in
    [0, stack_count)."""
    cdef Py_ssize_t i
    cdef int64_t total = frames.shape[0]
    cdef const char* problem = NULL
    if starts.shape[0] != lengths.shape[0] or starts.shape[0] != stack_ids.shape[0]:
        raise ValueError("starts, lengths and stack ids differ in length")
    with nogil:
        for i in range(starts.shape[0]):
            if starts[i] < 0 or lengths[i] < 0 or starts[i] + lengths[i] > total:
                problem = "a stack lies outside the frame array"
                break
            if stack_ids[i] < 0 or stack_ids[i] >= stack_count:
                problem = "a stack id is out of range"
                break
    if problem != NULL:
        raise ValueError(problem.decode())


cdef inline int compare(const uint8_t* keys, int width, int64_t a_start, int64_t a_length,
                        int64_t b_start, int64_t b_length) noexcept nogil:
    """Lexicographic order of two stacks by rank; a prefix sorts first. Ranks are stored
    big-endian, so memcmp (which compares many bytes per instruction) orders them."""
    cdef int64_t n = a_length if a_length < b_length else b_length
    cdef int order = memcmp(keys + a_start * width, keys + b_start * width, n * width)
    if order:
        return order
    return -1 if a_length < b_length else (1 if a_length > b_length else 0)


cdef uint8_t* ranked_keys(const int64_t[::1] rank, const int32_t[::1] frames, int* width) except NULL:
    """Each frame entry's rank as a big-endian key of 2 bytes (when ranks fit) or 4."""
    cdef Py_ssize_t i, n = frames.shape[0], frame_count = rank.shape[0]
    cdef int64_t largest = 0, value
    cdef const char* problem = NULL
    with nogil:  # the checks too: other threads go on meanwhile
        for i in range(frame_count):
            if rank[i] < 0 or rank[i] > <int64_t>0xFFFFFFFF:
                problem = "a rank is out of range"
                break
            largest = max(largest, rank[i])
        for i in range(n):
            if frames[i] < 0 or frames[i] >= frame_count:
                problem = "a frame index is out of range"
                break
    if problem != NULL:
        raise ValueError(problem.decode())
    width[0] = 2 if largest <= 0xFFFF else 4
    cdef uint8_t* keys = <uint8_t*>malloc(max(n, 1) * width[0])
    if keys == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            value = rank[frames[i]]
            if width[0] == 2:
                keys[2 * i] = <uint8_t>(value >> 8)
                keys[2 * i + 1] = <uint8_t>value
            else:
                keys[4 * i] = <uint8_t>(value >> 24)
                keys[4 * i + 1] = <uint8_t>(value >> 16)
                keys[4 * i + 2] = <uint8_t>(value >> 8)
                keys[4 * i + 3] = <uint8_t>value
    return keys


cdef sorted_order(const uint8_t* keys, int width, const int64_t[::1] starts, const int64_t[::1] lengths):
    """The stacks' indexes sorted by their ranked frames (stable: equal stacks keep their order).

    A bottom-up merge sort: stacks of a program share long prefixes, so two stacks mostly
    differ late, and memcmp compares the shared part many bytes at a time."""
    cdef Py_ssize_t n = starts.shape[0]
    order_array = np.arange(n, dtype=np.int64)
    cdef int64_t[::1] order = order_array
    cdef int64_t* scratch = <int64_t*>malloc(max(n, 1) * sizeof(int64_t))
    if scratch == NULL:
        raise MemoryError()
    cdef int64_t* src = &order[0] if n else scratch
    cdef int64_t* dst = scratch
    cdef int64_t* swap
    cdef Py_ssize_t run = 1, low, middle, high, left, right, out
    with nogil:
        while run < n:
            low = 0
            while low < n:
                middle = min(low + run, n)
                high = min(low + 2 * run, n)
                left, right, out = low, middle, low
                while left < middle and right < high:
                    if compare(keys, width, starts[src[right]], lengths[src[right]],
                               starts[src[left]], lengths[src[left]]) < 0:
                        dst[out] = src[right]
                        right += 1
                    else:
                        dst[out] = src[left]
                        left += 1
                    out += 1
                while left < middle:
                    dst[out] = src[left]
                    left += 1
                    out += 1
                while right < high:
                    dst[out] = src[right]
                    right += 1
                    out += 1
                low = high
            swap = src
            src = dst
            dst = swap
            run *= 2
    if n and src != &order[0]:
        for low in range(n):
            order[low] = src[low]
    free(scratch)
    return order_array


def lay_out(const int64_t[::1] rank, const int32_t[::1] frames, const int64_t[::1] starts,
            const int64_t[::1] lengths, const int64_t[::1] stack_ids, int64_t stack_count):
    """The call tree of the stacks ``frames[starts[i]:starts[i] + lengths[i]]`` (ids
    ``stack_ids[i]``), siblings ordered by ``rank[frame]``:
    (depth, frame, parent, end, leaf) as int32 arrays, nodes in pre-order.

    The stacks are sorted; each then adds the nodes below the prefix it shares with the
    stack before it. The current path (a node per depth) gives each new node its parent,
    and a node's subtree ends when a later stack leaves the path at or above its depth."""
    check_stacks(frames, starts, lengths, stack_ids, stack_count)
    cdef int width
    cdef uint8_t* keys = ranked_keys(rank, frames, &width)
    try:
        order_array = sorted_order(keys, width, starts, lengths)
    finally:
        free(keys)
    cdef const int64_t[::1] order = order_array
    cdef Py_ssize_t n = order.shape[0], k, d
    shared_array = np.zeros(n, dtype=np.int64)
    cdef int64_t[::1] shared = shared_array
    cdef int64_t a, b, limit, max_depth = 0, node_count = 1
    with nogil:
        for k in range(n):
            if k:
                a = starts[order[k - 1]]
                b = starts[order[k]]
                limit = min(lengths[order[k - 1]], lengths[order[k]])
                while shared[k] < limit and rank[frames[a + shared[k]]] == rank[frames[b + shared[k]]]:
                    shared[k] += 1
            node_count += lengths[order[k]] - shared[k]
            max_depth = max(max_depth, lengths[order[k]])
    if node_count > 0x7FFFFFFF:
        raise ValueError("too many call-tree nodes for 32-bit indexes")
    depth_a = np.empty(node_count, dtype=np.int32)
    frame_a = np.empty(node_count, dtype=np.int32)
    parent_a = np.empty(node_count, dtype=np.int32)
    end_a = np.empty(node_count, dtype=np.int32)
    leaf_a = np.full(stack_count, -1, dtype=np.int32)
    path_a = np.zeros(max_depth + 1, dtype=np.int32)
    cdef int32_t[::1] depth = depth_a, frame = frame_a, parent = parent_a, end = end_a
    cdef int32_t[::1] leaf = leaf_a, path = path_a
    cdef int64_t stack, start, length, previous_length = 0, next_node = 1
    depth[0] = 0
    frame[0] = -1
    parent[0] = -1
    with nogil:
        for k in range(n):
            stack = order[k]
            start = starts[stack]
            length = lengths[stack]
            for d in range(shared[k] + 1, previous_length + 1):  # nodes the path leaves
                end[path[d]] = <int32_t>next_node
            for d in range(shared[k] + 1, length + 1):
                depth[next_node] = <int32_t>d
                frame[next_node] = frames[start + d - 1]
                parent[next_node] = path[d - 1]
                path[d] = <int32_t>next_node
                next_node += 1
            leaf[stack_ids[stack]] = path[length]
            previous_length = length
        for d in range(1, previous_length + 1):
            end[path[d]] = <int32_t>next_node
        end[0] = <int32_t>next_node
    return depth_a, frame_a, parent_a, end_a, leaf_a


def key_sums(const int64_t[::1] key_of_frame, int64_t key_count, const int32_t[::1] frame,
             const int32_t[::1] end, const int64_t[::1] selves, const int64_t[::1] totals):
    """Self and total samples per key over a pre-order tree, and which frames have samples.

    A key's self is the selves of its nodes; its total the totals of its outermost nodes
    (no ancestor of the same key), so recursion counts once per sample. In pre-order a node
    is nested in an earlier node of its key exactly when it comes before that node's
    subtree end, so one walk keeping each key's current outermost end tells them apart.
    Node 0 is the root (no frame); nodes without samples are skipped."""
    cdef Py_ssize_t node_count = frame.shape[0], frame_count = key_of_frame.shape[0], node
    cdef const char* problem = NULL
    if end.shape[0] != node_count or selves.shape[0] != node_count or totals.shape[0] != node_count:
        raise ValueError("the node arrays differ in length")
    with nogil:
        for node in range(frame_count):
            if key_of_frame[node] < 0 or key_of_frame[node] >= key_count:
                problem = "a key is out of range"
                break
        for node in range(1, node_count):
            if frame[node] < 0 or frame[node] >= frame_count:
                problem = "a frame index is out of range"
                break
    if problem != NULL:
        raise ValueError(problem.decode())
    self_array = np.zeros(key_count, dtype=np.int64)
    total_array = np.zeros(key_count, dtype=np.int64)
    seen_array = np.zeros(frame_count, dtype=bool)
    outermost_end_array = np.zeros(key_count, dtype=np.int64)
    cdef int64_t[::1] self_samples = self_array, total_samples = total_array, outermost_end = outermost_end_array
    cdef unsigned char[::1] seen = seen_array.view(np.uint8)
    cdef int64_t key
    with nogil:
        for node in range(1, node_count):
            if totals[node] == 0:
                continue
            key = key_of_frame[frame[node]]
            self_samples[key] += selves[node]
            if node >= outermost_end[key]:
                total_samples[key] += totals[node]
                outermost_end[key] = end[node]
            seen[frame[node]] = 1
    return self_array, total_array, seen_array


def level_order(const int32_t[::1] depth):
    """A pre-order tree (node 0 the root at depth 0, each node's depth one more than its
    parent's) laid out level by level: (nodes in level order - depth 1's in pre-order, then
    depth 2's ... -, how many nodes each depth has, each node's parent as its index within
    the level above, in level order; -1 for the root). ValueError for depths no pre-order
    tree has."""
    cdef Py_ssize_t n = depth.shape[0], node, levels = 0
    cdef int32_t d
    cdef bint bad = False
    if n and depth[0] != 0:
        raise ValueError("the first node is not a root")
    with nogil:
        for node in range(n):
            d = depth[node]
            if d < 0 or d > levels or (node and d == 0):
                bad = True
                break
            if d == levels:
                levels += 1
    if bad:
        raise ValueError("a depth no pre-order tree has")
    sizes_array = np.zeros(levels, dtype=np.int64)
    cdef int64_t[::1] sizes = sizes_array
    with nogil:
        for node in range(n):
            sizes[depth[node]] += 1
    starts_array = np.zeros(levels, dtype=np.int64)
    cdef int64_t[::1] starts = starts_array
    for d in range(1, levels):
        starts[d] = starts[d - 1] + sizes[d - 1]
    order_array = np.empty(n, dtype=np.int64)
    parent_array = np.empty(n, dtype=np.int64)
    seen_array = np.zeros(levels, dtype=np.int64)  # nodes met so far per depth
    cdef int64_t[::1] order = order_array, parent = parent_array, seen = seen_array
    cdef int64_t place
    with nogil:
        for node in range(n):
            d = depth[node]
            place = starts[d] + seen[d]
            order[place] = node
            parent[place] = seen[d - 1] - 1 if d else -1  # the last node met one level up
            seen[d] += 1
    return order_array, sizes_array, parent_array
