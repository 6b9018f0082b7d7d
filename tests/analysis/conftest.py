"""Fixtures for the analysis tests: a small builder for hand-made profiles."""

from __future__ import annotations

import pytest

from webapp.profiles.model import Frame, Profile


def add_samples(profile: Profile, thread_name: str, runs: list[tuple[list[tuple], int]]) -> None:
    """Append ``runs`` of (stack as [(name, file, line), ...] root first, count) to a thread."""
    thread = next((t for t in profile.threads if t.name == thread_name), None)
    if thread is None:
        thread = profile.add_thread(thread_name)
    for stack, count in runs:
        frame_ids = tuple(profile.intern_frame(Frame(*frame)) for frame in stack)
        thread.append(profile.intern_stack(frame_ids), count)


@pytest.fixture
def build_profile():
    """Build a Profile from {thread name: [(stack, count), ...]}."""

    def build(threads: dict[str, list[tuple[list[tuple], int]]], **attrs) -> Profile:
        profile = Profile(**attrs)
        for name, runs in threads.items():
            add_samples(profile, name, runs)
        return profile

    return build
