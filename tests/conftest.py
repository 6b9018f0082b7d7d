"""Suite-wide guarantees: nothing the tests start outlives them."""

from __future__ import annotations

import ctypes
import json
import time
from pathlib import Path

import psutil
import pytest

SPEEDSCOPE_SCHEMA = Path(__file__).resolve().parent.parent / "static/vendor/speedscope/file-format-schema.json"
PR_SET_CHILD_SUBREAPER = 36
LEFTOVER_WAIT_S = 5.0


def _become_subreaper() -> bool:
    """Orphans of anything we start (double-forked daemons included) reparent to
    this process instead of init, so the final check below can see them."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


@pytest.fixture(scope="session")
def speedscope_validator():
    """A validator for the file-format schema shipped in the npm package speedscope."""
    import jsonschema

    assert SPEEDSCOPE_SCHEMA.exists(), f"{SPEEDSCOPE_SCHEMA} is missing: run .ci/setup --test"
    return jsonschema.Draft7Validator(json.loads(SPEEDSCOPE_SCHEMA.read_text()))


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run: Playwright's sync API allows one
    running instance per thread, so every browser test shares this one."""
    from playwright.sync_api import sync_playwright

    from flamegraph.support import CHROMIUM_ARGS, CHROMIUM_PATH  # tests/ is on sys.path under pytest

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", autouse=True)
def sandbox_user_can_reach_tmp_paths(tmp_path_factory):
    """Jobs run as the unprivileged sandbox user, who must traverse (not list) the
    directories down to a job's data directory; pytest creates its base as 0700."""
    base = tmp_path_factory.getbasetemp()
    # pytest-of-<user>/pytest-<n>/, plus popen-gw<k>/ under pytest-xdist.
    levels = 3 if base.name.startswith("popen-gw") else 2
    for directory in [base, *base.parents][:levels]:
        directory.chmod(0o711)


@pytest.fixture(autouse=True)
def sandbox_user_can_reach_tmp_path(request):
    """The same for each test's own ``tmp_path`` (created 0700), when the test uses one."""
    if "tmp_path" in request.fixturenames:
        request.getfixturevalue("tmp_path").chmod(0o711)


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind():
    """Fail the run if any process started by the suite is still alive at the end."""
    assert _become_subreaper(), "could not become a child subreaper"
    yield
    me = psutil.Process()
    deadline = time.monotonic() + LEFTOVER_WAIT_S
    alive = me.children(recursive=True)
    while alive and time.monotonic() < deadline:
        for child in alive:
            try:
                if child.status() == psutil.STATUS_ZOMBIE:
                    child.wait(timeout=0)  # reap: a zombie is dead, not left behind
            except (psutil.Error, psutil.TimeoutExpired):
                pass
        time.sleep(0.1)
        alive = [c for c in me.children(recursive=True) if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    described = [f"{c.pid} {' '.join(c.cmdline())[:120]}" for c in alive]
    for child in alive:
        child.kill()
    assert not described, f"processes left running after the test suite: {described}"
