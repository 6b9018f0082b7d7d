"""The delete tokens a browser holds, and whether a given token may delete a report or cancel its job.

A browser that submitted a report keeps its delete token in the signed session
cookie (signed, not encrypted: only that browser's user can read it, and they
were shown it anyway), so the report page can offer that browser Delete and
Cancel buttons. The delete token is the report's owner key: whoever holds it may
delete the report or cancel its job, and nobody else may.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, session

from webapp.store import Report
from webapp.store.deletion import delete_token_matches

DELETE_TOKEN_HEADER = "X-Delete-Token"
# [report token, delete token] pairs, oldest first (a list: the session serializer sorts dict keys).
SESSION_KEY = "delete_tokens"
SHOW_ONCE_KEY = "show_delete_token"  # report token whose delete token the next page shows
# Only the newest are kept: the cookie must stay under the browsers' 4 KB limit (~75 bytes a pair).
MAX_REMEMBERED_TOKENS = 20


@dataclass(frozen=True)
class Refusals:
    """Why an action that needs the delete token was refused, one sentence per case."""

    no_token: str
    wrong_token: str
    no_hash: str


DELETE = Refusals(
    no_token=("No delete token was given, so the report was not deleted. Send the delete token you "
              "received when the report was created (API: in the X-Delete-Token header)."),
    wrong_token=("The delete token does not match this report, so it was not deleted. Use the delete "
                 "token you received when the report was created."),
    no_hash=("This report was created before delete tokens existed, so it cannot be deleted with one. "
             "Ask the server's operator to remove it."),
)
CANCEL = Refusals(
    no_token=("Only whoever submitted this job can cancel it, and no delete token was given, so it was not "
              "cancelled. Send the delete token you received when the report was created "
              "(API: in the X-Delete-Token header)."),
    wrong_token=("The delete token does not match this report, so its job was not cancelled. Use the delete "
                 "token you received when the report was created."),
    no_hash=("This report was created before delete tokens existed, so its job cannot be cancelled with one. "
             "Ask the server's operator to stop it."),
)


def refusal(report: Report, given: str | None, refusals: Refusals = DELETE) -> str | None:
    """Why ``given`` may not delete ``report`` (or cancel its job), as a sentence; None when it may."""
    if not report.delete_token_hash:
        return refusals.no_hash
    if not given:
        return refusals.no_token
    return None if delete_token_matches(report, given) else refusals.wrong_token


def given_by_page(report_token: str) -> str | None:
    """The token a page's form sends (a ``delete_token`` field), else the one this browser's session holds."""
    return request.form.get("delete_token") or held_token(report_token)


def remember(report_token: str, delete_token: str) -> None:
    """Keep the delete token in this browser's session, and show it on the next page of the report."""
    held = [pair for pair in session.get(SESSION_KEY, []) if pair[0] != report_token]
    held.append([report_token, delete_token])
    session[SESSION_KEY] = held[-MAX_REMEMBERED_TOKENS:]
    session[SHOW_ONCE_KEY] = report_token


def held_token(report_token: str) -> str | None:
    """The delete token this browser holds for the report, if it created it."""
    return next((delete for report, delete in session.get(SESSION_KEY, []) if report == report_token), None)


def take_token_to_show(report_token: str) -> str | None:
    """The delete token to show on this page view, once: right after the report was submitted."""
    if session.get(SHOW_ONCE_KEY) != report_token:
        return None
    session.pop(SHOW_ONCE_KEY)
    return held_token(report_token)


def forget(report_token: str) -> None:
    """Drop a deleted report's token from this browser's session (if it is there)."""
    held = session.get(SESSION_KEY, [])
    if any(pair[0] == report_token for pair in held):
        session[SESSION_KEY] = [pair for pair in held if pair[0] != report_token]
