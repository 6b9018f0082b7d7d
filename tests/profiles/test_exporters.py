"""Every exporter, and the two we ship: speedscope JSON and collapsed stacks."""

from __future__ import annotations

import json
import re

import pytest

from webapp.profiles import EXPORTERS, Frame, Profile, get_exporter, load_profile
from webapp.profiles.exporters.collapsed import CollapsedExporter
from webapp.profiles.exporters.speedscope import SpeedscopeExporter
from webapp.profiles.importers.speedscope import read_parsed, read_scanned

FIXTURE_NAMES = ["single", "threads", "subprocesses"]


# -- the shared contract --------------------------------------------------------
@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_every_exporter_renders_deterministic_non_empty_bytes(pyspy_bytes, name):
    exporter = get_exporter(name)
    assert exporter.name == name
    assert exporter.file_suffix.startswith(".") and "/" in exporter.media_type
    profile = load_profile(pyspy_bytes("subprocesses"))
    first = exporter.render(profile)
    assert isinstance(first, bytes) and first
    assert exporter.render(load_profile(pyspy_bytes("subprocesses"))) == first


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_writing_to_a_file_gives_the_rendered_bytes(pyspy_bytes, name, tmp_path):
    """write() streams what render() returns, whichever of the two an exporter implements."""
    profile = load_profile(pyspy_bytes("threads"))
    with open(tmp_path / "out", "wb") as out:
        get_exporter(name).write(profile, out)
    assert (tmp_path / "out").read_bytes() == get_exporter(name).render(profile)


def test_an_exporter_must_implement_write_or_render():
    from webapp.profiles.exporters.base import Exporter

    with pytest.raises(NotImplementedError, match="overrides neither"):
        Exporter().render(Profile())


def test_an_unknown_exporter_name_is_a_clear_error():
    with pytest.raises(ValueError, match="There is no exporter called 'pdf'; choose one of: "):
        get_exporter("pdf")


# -- speedscope -----------------------------------------------------------------
def walk(value):
    """Every value nested in a JSON document."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def test_the_schema_check_can_fail_pyspy_itself_writes_null_columns(pyspy_bytes, speedscope_validator):
    errors = list(speedscope_validator.iter_errors(json.loads(pyspy_bytes("single"))))
    assert errors and "None is not of type 'number'" in errors[0].message


@pytest.mark.parametrize("line_level", [False, True], ids=["function-level", "line-level"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_speedscope_export_is_valid_against_the_shipped_schema(pyspy_bytes, speedscope_validator, name, line_level):
    document = json.loads(SpeedscopeExporter(line_level=line_level).render(load_profile(pyspy_bytes(name))))
    speedscope_validator.validate(document)
    assert None not in list(walk(document))


def test_speedscope_export_has_one_profile_per_thread_then_all_threads(pyspy_bytes):
    profile = load_profile(pyspy_bytes("subprocesses"), "subprocesses.speedscope.json")
    document = json.loads(SpeedscopeExporter(line_level=True).render(profile))
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert (document["exporter"], document["name"]) == ("flamedeck", "py-spy profile")
    names = [item["name"] for item in document["profiles"]]
    assert names[:4] == ['Process 12252 Thread 12252 ""', 'Process 12252 Thread 12259 "Thread-1 (_handle_workers)"',
                         'Process 12252 Thread 12260 "Thread-2 (_handle_tasks)"',
                         'Process 12257 Thread 12257 "MainThread"']
    # speedscope opens on a real thread; the merged profile (whose time axis means nothing) is last
    assert names[-1] == "All threads" and document["activeProfileIndex"] == 0
    for item, thread in zip(document["profiles"], profile.threads):
        assert item["unit"] == "seconds"
        assert all(a != b for a, b in zip(item["samples"], item["samples"][1:]))  # runs merged
        assert item["weights"] == pytest.approx([count * 0.01 for count in thread.counts])


def test_all_threads_profile_sums_each_distinct_stack_once_sorted_by_name(pyspy_bytes):
    profile = load_profile(pyspy_bytes("threads"))
    document = json.loads(SpeedscopeExporter(line_level=True).render(profile))
    frames = document["shared"]["frames"]
    merged = document["profiles"][-1]
    as_names = [tuple((frames[i]["name"], frames[i].get("file", ""), frames[i].get("line", 0)) for i in s)
                for s in merged["samples"]]
    assert as_names == sorted(as_names) and len(set(as_names)) == len(as_names)
    expected = {tuple((f.name, f.file, f.line) for f in profile.frame_stack(stack_id)): count
                for stack_id, count in profile.stack_counts().items()}
    assert dict(zip(as_names, (round(w / 0.01) for w in merged["weights"]))) == expected


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_by_default_the_export_holds_everything_pyspys_own_file_holds(pyspy_bytes, name):
    """Line-level frames, every thread in py-spy's order and named as py-spy named it,
    the same samples per thread in the same order; real threads first, merged last."""
    theirs = json.loads(pyspy_bytes(name))
    ours = json.loads(SpeedscopeExporter().render(load_profile(pyspy_bytes(name))))
    frame_key = lambda f: (f["name"], f.get("file") or "", f.get("line") or 0)  # noqa: E731
    their_frames = [frame_key(f) for f in theirs["shared"]["frames"]]
    our_frames = [frame_key(f) for f in ours["shared"]["frames"]]
    if name == "subprocesses":  # py-spy's synthetic 'process 123:"cmdline"' roots are dropped on purpose
        their_frames = [f for f in their_frames if not f[0].startswith("process ")]
    assert set(their_frames) <= set(our_frames)
    real = ours["profiles"][:-1]
    assert [p["name"] for p in real] == [p["name"] for p in theirs["profiles"]]
    assert ours["profiles"][-1]["name"] == "All threads" and ours["activeProfileIndex"] == 0

    def timeline(document, profile_item, drop_process_roots):
        frames = [frame_key(f) for f in document["shared"]["frames"]]
        out = []
        for stack, weight in zip(profile_item["samples"], profile_item["weights"]):
            names = tuple(frames[i] for i in stack if not (drop_process_roots and frames[i][0].startswith("process ")))
            out += [names] * round(weight / 0.01)
        return out

    for mine, pyspys in zip(real, theirs["profiles"]):
        assert timeline(ours, mine, False) == timeline(theirs, pyspys, name == "subprocesses")


def test_function_level_file_shows_each_function_once_at_its_definition_line(pyspy_bytes):
    profile = load_profile(pyspy_bytes("single"))
    line_level = json.loads(SpeedscopeExporter().render(profile))
    assert len([f for f in line_level["shared"]["frames"] if f["name"] == "leaf"]) > 1
    sampled_only = json.loads(SpeedscopeExporter(line_level=False).render(profile))
    leaf_frames = [f for f in sampled_only["shared"]["frames"] if f["name"] == "leaf"]
    assert leaf_frames == [{"name": "leaf", "file": "/home/user/project/single.py", "line": 6}]  # first sampled
    profile.definition_lines[("leaf", "/home/user/project/single.py")] = 4  # its def line
    defined = json.loads(SpeedscopeExporter(line_level=False).render(profile))
    leaf_frames = [f for f in defined["shared"]["frames"] if f["name"] == "leaf"]
    assert leaf_frames == [{"name": "leaf", "file": "/home/user/project/single.py", "line": 4}]
    assert read_parsed(SpeedscopeExporter().render(profile)).definition_lines == profile.definition_lines


@pytest.mark.parametrize("reader", [read_parsed, read_scanned], ids=["parser", "scanner"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_line_level_round_trip_is_exact(pyspy_bytes, thread_runs, name, reader):
    original = load_profile(pyspy_bytes(name))
    again = reader(SpeedscopeExporter(line_level=True).render(original))
    assert thread_runs(again) == thread_runs(original)
    assert (again.name, again.interval_s, again.start_s, again.end_s) == (
        original.name, original.interval_s, original.start_s, original.end_s)


@pytest.mark.parametrize("reader", [read_parsed, read_scanned], ids=["parser", "scanner"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_function_level_round_trip_is_exact(pyspy_bytes, thread_runs, name, reader):
    functions = load_profile(pyspy_bytes(name)).function_level()
    again = reader(SpeedscopeExporter(line_level=False).render(functions))
    assert thread_runs(again) == thread_runs(functions)
    assert again.interval_s == functions.interval_s


def odd_profile() -> Profile:
    """Hand-built: unknown files and lines, an odd interval, big counts, a name clash."""
    profile = Profile(name="odd", interval_s=0.0037, start_s=2.5, end_s=9.0)
    a = profile.intern_frame(Frame("a"))
    b = profile.intern_frame(Frame("b", "b.py"))
    c = profile.intern_frame(Frame("c", "c.py", 3))
    first = profile.intern_stack((a, b, c))
    second = profile.intern_stack((a,))
    empty = profile.intern_stack(())
    thread = profile.add_thread("All threads", "pid 1")  # named like the merged profile
    for stack_id, count in [(first, 70_000), (second, 1), (empty, 2), (first, 3)]:
        thread.append(stack_id, count)
    profile.add_thread("idle")  # no samples at all
    return profile


def test_round_trip_keeps_unknown_fields_odd_intervals_and_name_clashes(thread_runs, speedscope_validator):
    original = odd_profile()
    data = SpeedscopeExporter(line_level=True).render(original)
    speedscope_validator.validate(json.loads(data))
    for reader in (read_parsed, read_scanned):
        again = reader(data)
        assert thread_runs(again) == thread_runs(original)
        assert (again.interval_s, again.start_s, again.end_s) == (0.0037, 2.5, 9.0)


# -- collapsed ------------------------------------------------------------------
COLLAPSED_LINE = re.compile(r"^(?P<stack>[^\n]+) (?P<count>\d+)$")


def parse_collapsed(data: bytes) -> dict[tuple[str, ...], int]:
    result = {}
    for line in data.decode().splitlines():
        match = COLLAPSED_LINE.match(line)
        assert match, line
        result[tuple(match["stack"].split(";"))] = int(match["count"])
    return result


def test_collapsed_has_one_sorted_line_per_distinct_function_stack(pyspy_bytes):
    profile = load_profile(pyspy_bytes("threads"))
    data = CollapsedExporter().render(profile)
    lines = data.decode().splitlines()
    assert lines == sorted(lines) and data.endswith(b"\n")
    stacks = parse_collapsed(data)
    empty = profile.stack_counts()[profile.stacks.index(())]
    assert empty == 1  # py-spy wrote one empty sample `[]`; it has no line
    assert sum(stacks.values()) == profile.sample_count - empty
    spin = "spin (/home/user/project/threads.py:8)"  # function level: first sampled line
    worker_path = ("Thread._bootstrap (/usr/local/lib/python3.11/threading.py:1002)",
                   "Thread._bootstrap_inner (/usr/local/lib/python3.11/threading.py:1045)",
                   "Thread.run (/usr/local/lib/python3.11/threading.py:982)",
                   "worker (/home/user/project/threads.py:15)", spin)
    assert stacks[worker_path] == sum(t.sample_count for t in profile.threads if t.name != "MainThread")


def test_collapsed_per_thread_puts_the_thread_first(pyspy_bytes):
    profile = load_profile(pyspy_bytes("subprocesses"))
    stacks = parse_collapsed(CollapsedExporter(per_thread=True, line_level=True).render(profile))
    roots = {stack[0] for stack in stacks}
    assert roots == {t.label for t in profile.threads}
    assert sum(stacks.values()) == profile.sample_count


def test_collapsed_escapes_separators_and_line_breaks():
    profile = Profile()
    frames = [
        profile.intern_frame(Frame("main", "/srv/a;b.py", 1)),
        profile.intern_frame(Frame("handle\nrequest", "app.py", 2)),
        profile.intern_frame(Frame("eval\r\u2028chunk;2")),
        profile.intern_frame(Frame("eval\r\u2028chunk:2")),  # the same text once escaped
    ]
    thread = profile.add_thread("main\nthread")
    thread.append(profile.intern_stack((frames[0], frames[1], frames[2])), 4)
    thread.append(profile.intern_stack((frames[0], frames[1], frames[3])), 5)
    thread.append(profile.intern_stack(()), 6)  # an empty stack has no line
    data = CollapsedExporter(line_level=True, per_thread=True).render(profile)
    assert data.decode().splitlines() == [
        "main thread;main (/srv/a:b.py:1);handle request (app.py:2);eval  chunk:2 9"
    ]
