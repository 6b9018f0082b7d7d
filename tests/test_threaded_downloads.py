"""Downloads written by several threads at once: the same bytes as one after another, shared
caches built once, and a failure that stops the report without leaving threads behind."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from webapp import pipeline
from webapp.profiles.exporters.speedscope import SpeedscopeExporter
from webapp.profiles.model import Frame, Profile


def many_stacks_profile(stacks: int = 20_000, seed: int = 7) -> Profile:
    """Enough distinct stacks (over 3 threads, 300 line-level frames of 100 functions) that the
    function level and both call trees take long enough for the threads to meet."""
    rng = np.random.default_rng(seed)
    profile = Profile(name="many", interval_s=0.01)
    for k in range(300):
        profile.intern_frame(Frame(f"f{k // 3}", f"m{k % 7}.py", 10 + k))
    lengths = rng.integers(1, 30, stacks)
    ids = profile.intern_stacks(rng.integers(0, 300, int(lengths.sum())), lengths)
    for name in ("MainThread", "worker-1", "worker-2"):
        thread = profile.add_thread(name)
        chosen = ids[rng.integers(0, len(ids), 5_000)]
        thread.extend_runs(chosen.astype(np.uint32), rng.integers(1, 4, len(chosen)).astype(np.uint32))
    return profile


def test_downloads_written_by_four_threads_equal_those_written_one_by_one():
    one_by_one = pipeline.render_artifacts(many_stacks_profile(), threads=1)
    at_once = pipeline.render_artifacts(many_stacks_profile(), threads=4)
    assert set(at_once) == set(pipeline.PROFILE_ARTIFACTS)
    for name, data in one_by_one.items():
        assert at_once[name] == data, name


def test_threads_asking_for_the_same_derived_profile_share_one_build():
    profile = many_stacks_profile(stacks=100)
    builds = []

    def slow_build():
        builds.append(threading.get_ident())
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(profile._cached("slow", slow_build)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(results) == 4 and len({id(result) for result in results}) == 1


def test_a_failing_download_fails_the_import_and_leaves_no_thread_running(monkeypatch):
    def broken_write(self, profile, out):
        raise RuntimeError("disk full")

    monkeypatch.setattr(SpeedscopeExporter, "write", broken_write)
    data = b"main;work 3\nmain;idle 1\n"
    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.import_profile(data, "stacks.collapsed.txt", export_threads=3)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("downloads")]
