"""Finished reports never change, so each web process keeps what it built for them in memory.

Kept: the rendered page and tables of a report and its smaller artifacts, within a byte
budget (REPORT_CACHE_BYTES), least recently used first out, keyed by the report's
unguessable token and row id. Whether the report still exists is looked up again at
most REPORT_RECHECK_S later: a report deleted through one process is gone from that
process at once and from the others within REPORT_RECHECK_S.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from webapp.store import FINAL_STATUSES, Report
from webapp.views.services import get_store

# One artifact may take at most this share of the budget, so a few big files cannot evict everything.
MAX_ITEM_SHARE = 8


class FinishedCache:
    """A thread-safe LRU mapping with a total size in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key) -> Any:
        """The value, or None (and the entry becomes the most recently used)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key, value, size_bytes: int) -> None:
        """Keep ``value`` unless it is too big for the budget; drop the oldest entries to make room."""
        if size_bytes > self.max_bytes // MAX_ITEM_SHARE:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size_bytes)
            self._bytes += size_bytes
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def discard(self, key) -> None:
        """Forget ``key`` if it is kept."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]


EXTENSION_KEY = "flamedeck.finished_cache"


def init_app(app) -> None:
    """Give the app its cache, sized by REPORT_CACHE_BYTES (0: nothing is kept)."""
    app.extensions[EXTENSION_KEY] = FinishedCache(app.config["REPORT_CACHE_BYTES"])


def get_cache() -> FinishedCache:
    """The current app's cache."""
    return current_app.extensions[EXTENSION_KEY]


# What every page view and download needs of the row; a Core query (no ORM session).
ROW_LOOKUP = select(Report.id, Report.status, Report.script_name).where(Report.token == bindparam("token"))
ROW_ENTRY_BYTES = 200  # what a remembered row costs in memory, about


@dataclass(frozen=True)
class FoundReport:
    """The few columns of a report row that decide what a request gets."""

    id: int
    status: str
    script_name: str


def find_report(token: str) -> FoundReport | None:
    """The report's id, status and script name, or None: from memory for a finished report
    looked up less than REPORT_RECHECK_S ago, else from the database."""
    cache, key, now = get_cache(), ("row", token), time.monotonic()
    remembered = cache.get(key)
    if remembered is not None and now - remembered[1] < current_app.config["REPORT_RECHECK_S"]:
        return remembered[0]
    row = get_store().first_row(ROW_LOOKUP, {"token": token})
    if row is None:
        cache.discard(key)
        return None
    found = FoundReport(row.id, row.status, row.script_name)
    if found.status in FINAL_STATUSES:  # a pending report changes: always asked again
        cache.put(key, (found, now), ROW_ENTRY_BYTES)
    return found


def forget_report(token: str) -> None:
    """This process no longer serves the report from memory (it was just deleted here)."""
    get_cache().discard(("row", token))
