"""The view transforms on the Profile model: each one on a small profile worked out by hand."""

from __future__ import annotations

from webapp.profiles.model import Frame, Profile
from webapp.profiles.transforms import (
    collapse_recursion,
    focus_on,
    merge_comprehensions,
    only_my_code,
    user_file_matcher,
)

APP = "/job/app.py"
JSON = "/usr/lib/python3.11/json/decoder.py"
IMPORTLIB = "<frozen importlib._bootstrap>"
THREADING = "/usr/lib/python3.11/threading.py"


def build(*threads: list[tuple[tuple[Frame, ...], int]]) -> Profile:
    profile = Profile(name="app.py")
    for number, runs in enumerate(threads):
        thread = profile.add_thread(f"t{number}")
        for frames, count in runs:
            thread.append(profile.intern_stack(tuple(profile.intern_frame(f) for f in frames)), count)
    return profile


def stacks(profile: Profile) -> dict[tuple[str, ...], int]:
    """Samples per stack, each frame written name:line."""
    found: dict[tuple[str, ...], int] = {}
    for thread in profile.threads:
        for stack_id, count in thread.runs():
            key = tuple(f"{f.name}:{f.line}" for f in profile.frame_stack(stack_id))
            found[key] = found.get(key, 0) + count
    return found


MAIN, PARSE = Frame("<module>", APP, 1), Frame("parse", APP, 20)
DECODE = Frame("decode", JSON, 332)
FIND_LOAD = Frame("_find_and_load", IMPORTLIB, 1176)
IMPORTED = Frame("<module>", "/usr/lib/python3.11/csv.py", 1)
BOOTSTRAP, WORK = Frame("_bootstrap", THREADING, 995), Frame("work", APP, 40)


def test_only_my_code_gives_library_samples_to_the_nearest_user_caller_and_keeps_the_total():
    profile = build(
        [((MAIN, PARSE, DECODE), 30), ((MAIN, FIND_LOAD, IMPORTED), 20), ((MAIN, PARSE), 10)],
        [((BOOTSTRAP, WORK, DECODE), 25), ((BOOTSTRAP,), 5)],
    )
    mine = only_my_code(profile, user_file_matcher(["app.py"]))
    assert stacks(mine) == {
        ("<module>:1", "parse:20"): 40,       # decode's 30 merged into parse
        ("<module>:1",): 20,                  # the import machinery and the imported module
        ("work:40",): 25,                     # the thread's bootstrap above it has no user caller
        (): 5,                                # no user frame at all: stays with the root
    }
    assert mine.sample_count == profile.sample_count == 90
    assert [t.name for t in mine.threads] == ["t0", "t1"]
    assert all(f.file == APP for f in mine.frames)


def test_collapse_recursion_keeps_one_frame_per_run_of_the_same_function():
    fib10, fib12 = Frame("fib", APP, 10), Frame("fib", APP, 12)
    profile = build([((MAIN, fib12, fib12, fib12, fib10), 7), ((MAIN, fib12, PARSE, fib10), 3)])
    collapsed = collapse_recursion(profile)
    # direct recursion folds to its innermost frame; fib called again through parse is not direct
    assert stacks(collapsed) == {("<module>:1", "fib:10"): 7, ("<module>:1", "fib:12", "parse:20", "fib:10"): 3}
    assert collapsed.sample_count == 10


def test_merge_comprehensions_gives_their_samples_to_the_enclosing_function():
    listcomp, genexpr, lam = Frame("<listcomp>", APP, 21), Frame("<genexpr>", APP, 22), Frame("<lambda>", APP, 23)
    profile = build([((MAIN, PARSE, listcomp), 4), ((MAIN, PARSE, genexpr, lam), 6), ((lam,), 1)])
    merged = merge_comprehensions(profile)
    assert stacks(merged) == {("<module>:1", "parse:20"): 10, ("<lambda>:23",): 1}


def test_focus_keeps_only_stacks_through_the_function_rooted_at_its_outermost_call():
    profile = build(
        [((MAIN, PARSE, DECODE), 30), ((MAIN,), 9), ((MAIN, WORK, PARSE, PARSE), 2)],
        [((BOOTSTRAP, WORK), 5)],
    )
    focused = focus_on(profile, "parse", APP)
    assert stacks(focused) == {("parse:20", "decode:332"): 30, ("parse:20", "parse:20"): 2}
    assert focused.sample_count == 32
    assert stacks(focus_on(profile, "parse", "/elsewhere.py")) == {}


def test_user_file_matcher_takes_paths_and_bare_names():
    matches = user_file_matcher(["app.py", "/job/pkg/util.py"])
    assert matches("/job/app.py") and matches("app.py") and matches("/job/pkg/util.py")
    assert not matches("/job/myapp.py") and not matches("/job/pkg/other.py") and not matches(JSON)


def test_only_my_code_on_a_real_pyspy_profile_leaves_only_the_script_and_every_sample(pyspy_bytes):
    """py-spy's own file of a script that imports (pathlib, re, urllib: <frozen importlib> frames)."""
    from webapp.profiles import load_profile

    profile = load_profile(pyspy_bytes("single"), "single.speedscope.json")
    assert any(f.file.startswith("<frozen importlib") for f in profile.frames)
    mine = only_my_code(profile, user_file_matcher(["/home/user/project/single.py"]))
    assert {f.file for f in mine.frames} == {"/home/user/project/single.py"}
    assert mine.sample_count == profile.sample_count
    assert [t.stack_counts().total() for t in mine.threads] == [t.stack_counts().total() for t in profile.threads]
