"""The app's store and queue, as views reach them."""

from __future__ import annotations

from flask import current_app

from webapp.jobs import JobQueue
from webapp.store import Store


def get_store() -> Store:
    """The report database of the current app."""
    return current_app.extensions["flamedeck.store"]


def get_queue() -> JobQueue:
    """The job queue of the current app."""
    return current_app.extensions["flamedeck.queue"]
