"""A pair's diff tree, built once for all the requests of one compare page.

The page wants the merged tree three ways at once: the page view starts it (so the build
overlaps the page's own function table and the browser fetching its scripts), the first
picture asks for its preview, the graph for the full tree. Each is a future of one build.
The finished-report cache keeps results for later visits; this keeps a build until the page's
requests have taken both of its results (or, at most, the last ``RECENT_BUILDS`` builds), so
that one page's requests share a build even when the cache keeps nothing (REPORT_CACHE_BYTES=0)
or a result is too big for it - and a later visit, with nothing in the cache, builds again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from flask import current_app

EXTENSION_KEY = "flamedeck.diff_builds"
RECENT_BUILDS = 4  # builds remembered per web process (each holds a few MB of compressed JSON)


PARTS = ("preview", "full")


class DiffBuild:
    """The two results of one build: the preview's and the full tree's compressed JSON."""

    def __init__(self) -> None:
        self.preview: Future = Future()
        self.full: Future = Future()
        self.untaken = set(PARTS)

    def fail(self, error: BaseException) -> None:
        for future in (self.preview, self.full):
            if not future.done():
                future.set_exception(error)


class DiffBuilds:
    """Builds by key, the most recent last; thread-safe."""

    def __init__(self, recent: int = RECENT_BUILDS) -> None:
        self.recent = recent
        self._builds: OrderedDict[object, DiffBuild] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object, build: Callable[[DiffBuild], None]) -> DiffBuild:
        """The build of ``key``: the one under way or recently done, else a new one that runs
        ``build`` in a thread of its own (in this app's context), so that a request waits only for
        the part it wants."""
        with self._lock:
            found = self._builds.get(key)
            if found is not None:
                self._builds.move_to_end(key)
                return found
            found = self._builds[key] = DiffBuild()
            while len(self._builds) > self.recent:
                self._builds.popitem(last=False)  # whoever waits on it keeps it
        app = current_app._get_current_object()

        def run() -> None:
            with app.app_context():
                try:
                    build(found)
                except BaseException as error:  # the requests waiting on it answer with it
                    found.fail(error)
                    with self._lock:
                        if self._builds.get(key) is found:
                            del self._builds[key]  # a later request tries again

        threading.Thread(target=run, name="diff-build", daemon=True).start()
        return found

    def take(self, key: object, build: DiffBuild, part: str):
        """The ``part`` ("preview" or "full") of ``build``, waited for; the build is forgotten once
        both parts have been taken."""
        result = getattr(build, part).result()
        with self._lock:
            build.untaken.discard(part)
            if not build.untaken and self._builds.get(key) is build:
                del self._builds[key]
        return result


def init_app(app) -> None:
    app.extensions[EXTENSION_KEY] = DiffBuilds()


def get_builds() -> DiffBuilds:
    """The current app's builds."""
    return current_app.extensions[EXTENSION_KEY]
