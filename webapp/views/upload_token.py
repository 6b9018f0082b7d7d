"""The optional upload token (FLAMEDECK_UPLOAD_TOKEN): on an instance that sets one, submitting needs it.

Reading reports never does. API clients send it as ``Authorization: Bearer <token>``
on every submission; a browser types it into the form once, and its signed session
keeps it (signed, not encrypted: only that browser's user can read it, and they typed
it). A token held from before the operator changed it no longer counts.
"""

from __future__ import annotations

import hmac

from flask import current_app, request, session

FORM_FIELD = "upload_token"
SESSION_KEY = "upload_token"
BEARER_SCHEME = "bearer"

API_MISSING = ("This server only accepts submissions with its upload token, and none was sent, so nothing "
               "was stored. Send it as 'Authorization: Bearer <token>' (ask the server's operator for it).")
API_WRONG = ("The upload token sent does not match this server's, so nothing was stored. Check the "
             "'Authorization: Bearer <token>' header against the token the server's operator gave you.")
FORM_MISSING = ("This server only accepts submissions with its upload token. Enter it in the upload token "
                "field (ask the server's operator for it) and submit again.")
FORM_WRONG = ("That upload token is not this server's, so nothing was submitted. Enter the token the "
              "server's operator gave you and submit again.")


def required() -> bool:
    """Whether this server asks for an upload token at all."""
    return bool(current_app.config["UPLOAD_TOKEN"])


def _matches(given: str | None) -> bool:
    expected = current_app.config["UPLOAD_TOKEN"]
    return bool(given) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def api_refusal() -> str | None:
    """Why this API request may not submit, as a sentence; None when it may."""
    if not required():
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():  # the scheme is case-insensitive (RFC 9110)
        return API_MISSING
    return None if _matches(token.strip()) else API_WRONG


def form_refusal() -> str | None:
    """Why this form submission may not submit, as a sentence; None when it may.

    A token typed into the form is checked and, when right, kept for the next
    submissions (even if the rest of the form is then refused: the password field
    is never filled in again, so the user need not retype it); without one, the
    token this browser's session holds is used.
    """
    if not required():
        return None
    typed = request.form.get(FORM_FIELD, "").strip()
    if typed:
        if not _matches(typed):
            return FORM_WRONG
        session[SESSION_KEY] = typed
        return None
    if session_holds_it():
        return None
    session.pop(SESSION_KEY, None)  # the operator changed the token since: ask again
    return FORM_MISSING


def session_holds_it() -> bool:
    """Whether this browser's session holds the server's current upload token."""
    return _matches(session.get(SESSION_KEY))


def form_asks_for_it() -> bool:
    """Whether the form shows the upload token field: the server needs one and this browser has none."""
    return required() and not session_holds_it()
