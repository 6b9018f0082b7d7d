"""View transforms: a Profile rewritten stack by stack into another Profile.

Each transform answers one reading question and can be combined with the others;
all are built on :meth:`Profile.restacked`, so stacks that become identical merge
and every thread keeps its samples in time order.

* :func:`only_my_code` - frames outside the user's files go to their nearest caller
  in the user's code (import machinery such as ``<frozen importlib._bootstrap>``
  with them); the total is kept: a sample with no user frame at all stays with the
  root (an empty stack).
* :func:`collapse_recursion` - a function calling itself directly shows once.
* :func:`merge_comprehensions` - ``<listcomp>``, ``<genexpr>``, ``<lambda>``, ...
  frames go to the function that runs them.
* :func:`focus_on` - only the samples whose stack passes through a function,
  each stack cut to start at that function's outermost call.

The browser applies the same rules to the flame tree (static/js/flamegraph/transforms.js),
so the page can combine them freely without another request.
"""

from __future__ import annotations

from collections.abc import Callable

from webapp.profiles.model import Frame, Profile

# Code objects CPython names with angle brackets and runs as a frame of their own,
# although the user wrote them inside another function.
COMPREHENSION_NAMES = frozenset({"<listcomp>", "<genexpr>", "<lambda>", "<dictcomp>", "<setcomp>"})


def only_my_code(profile: Profile, is_user_file: Callable[[str], bool]) -> Profile:
    """Keep only frames whose file ``is_user_file``; the others' samples go to their caller.

    A frame outside the user's code and above every user frame (a thread's bootstrap)
    has no user caller to go to, so it goes too, and its callee in the user's code
    becomes a root."""
    mine: dict[str, bool] = {}

    def is_mine(frame: Frame) -> bool:
        known = mine.get(frame.file)
        if known is None:
            known = mine[frame.file] = bool(frame.file) and is_user_file(frame.file)
        return known

    return profile.restacked(lambda frames: [f for f in frames if is_mine(f)])


def collapse_recursion(profile: Profile) -> Profile:
    """Consecutive frames of one function (direct recursion) become one: the innermost,
    whose line is the one the samples were taken at."""

    def collapse(frames: list[Frame]) -> list[Frame]:
        kept: list[Frame] = []
        for frame in frames:
            if kept and kept[-1].function_key == frame.function_key:
                kept[-1] = frame
            else:
                kept.append(frame)
        return kept

    return profile.restacked(collapse)


def merge_comprehensions(profile: Profile, names: frozenset[str] = COMPREHENSION_NAMES) -> Profile:
    """Comprehension and lambda frames dropped, so their samples count for their caller.
    One at the root of a stack, with no caller to go to, stays."""
    return profile.restacked(lambda frames: [f for k, f in enumerate(frames) if k == 0 or f.name not in names])


def focus_on(profile: Profile, name: str, file: str | None = None) -> Profile:
    """Only the samples through function ``name`` (in ``file``, when given), each stack
    starting at the outermost call of it. Samples elsewhere are dropped."""

    def matches(frame: Frame) -> bool:
        return frame.name == name and (file is None or frame.file == file)

    def cut(frames: list[Frame]) -> list[Frame] | None:
        for index, frame in enumerate(frames):
            if matches(frame):
                return frames[index:]
        return None

    return profile.restacked(cut)


def user_file_matcher(script_files: list[str] | tuple[str, ...]) -> Callable[[str], bool]:
    """A predicate "is this file one of the user's?" for the uploaded ``script_files``:
    a path equal to one of them, or (for a bare file name) ending in ``/<name>``,
    as the flamegraph's origin colours decide."""
    exact = {path.replace("\\", "/") for path in script_files}
    bare = tuple("/" + path for path in exact if "/" not in path)

    def is_user_file(file: str) -> bool:
        path = file.replace("\\", "/")
        return path in exact or (bool(bare) and path.endswith(bare))

    return is_user_file
