"""What a link to a report that is not there answers: 410 when its owner deleted it, else 404.

Only the miss path asks the tombstones, so a report that exists costs nothing more.
"""

from __future__ import annotations

from typing import NoReturn

from flask import abort

from webapp.store.deletion import was_deleted
from webapp.views.services import get_store

NOT_FOUND_MESSAGE = "There is no report at this address. Check the link, or profile a script to make a new report."
DELETED_MESSAGE = ("This report was deleted by whoever created it, with all its files, so its link no longer "
                   "works. Profile a script to make a new report.")


def abort_missing(token: str) -> NoReturn:
    """Answer 410 (deleted) or 404 (never existed, or expired) for a report token that finds no report."""
    with get_store().reading() as session:
        deleted = was_deleted(session, token)
    abort(410 if deleted else 404, DELETED_MESSAGE if deleted else NOT_FOUND_MESSAGE)
