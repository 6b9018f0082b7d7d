"""Rate limits on submitting scripts and importing profiles, per client address.

The form and the API share one count per address, so a flood cannot switch doors. Counts live
in the job queue's Redis in team mode (every web machine sees them) and in each web process's
memory otherwise. Only a configured number of reverse proxies is believed about the client's
address (``TRUSTED_PROXIES``); a client-supplied ``X-Forwarded-For`` is ignored by default.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.views.error_responses import error_response, wants_json
from webapp.views.pages import render_index_with_error

# The views whose requests count (endpoint names); reading reports never does.
LIMITED_ENDPOINTS = ("pages.submit", "api.create")
SCOPE = "submissions"


def init_app(app: Flask) -> None:
    """Limit the submitting endpoints of ``app`` (call after the blueprints are registered)."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Each trusted proxy appends the address it saw; believe exactly that many hops.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["REDIS_URL"] or "memory://",
        # Installations sharing one Redis keep their counts apart, as their queues.
        key_prefix=f"{app.config['QUEUE_NAME']}:rate-limit",
        # Retry-After only on the 429 itself (see _refused), not on every accepted submission.
        headers_enabled=False,
        # Redis down: count in memory rather than refuse every submission with a 500.
        in_memory_fallback_enabled=True,
        strategy="moving-window",
    )
    shared = limiter.shared_limit(_limits, scope=SCOPE, error_message=_sentence)
    for endpoint in LIMITED_ENDPOINTS:
        # The limiter checks a decorated view when it is called, so the view is replaced by its wrapper.
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    app.extensions["flamedeck.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _refused)


def _refused(error: RateLimitExceeded):
    """429 with the sentence: JSON for the API, the form with the sentence for a browser."""
    headers = {"Retry-After": str(_seconds_until_reset())}
    if wants_json():
        return error_response(error.description, 429, headers)
    return render_index_with_error(error.description, 429, headers)


def _seconds_until_reset() -> int:
    """Whole seconds until the breached limit lets one more submission through (at least 1)."""
    breached = current_app.extensions["flamedeck.limiter"].current_limit
    reset_at = breached.reset_at if breached else time.time() + 60
    return max(1, math.ceil(reset_at - time.time()))


def _limits() -> str:
    config = current_app.config
    return f"{config['RATE_LIMIT_PER_MINUTE']} per minute; {config['RATE_LIMIT_PER_HOUR']} per hour"


def _sentence() -> str:
    config = current_app.config
    return (f"Too many submissions from your address: this server accepts {config['RATE_LIMIT_PER_MINUTE']} "
            f"a minute and {config['RATE_LIMIT_PER_HOUR']} an hour. "
            "Wait for the time in the Retry-After header (seconds) and submit again.")

