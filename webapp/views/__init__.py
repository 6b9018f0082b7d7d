"""Blueprints: pages and htmx partials, downloads, the JSON API, the bundled speedscope."""

from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from webapp.jobs.sandboxing import sandbox_warning
from webapp.units import human_size, pct

from webapp.views import (api, compare_pages, deletion, diff_builds, downloads, errors, finished_cache, openapi,
                          pages, rate_limits, reports, rerun, security, source_view, speedscope)


def register(app: Flask, csrf: CSRFProtect) -> None:
    """Attach every blueprint, the error pages and the security headers to ``app``."""
    for blueprint in (pages.bp, reports.bp, deletion.bp, downloads.bp, speedscope.bp, api.bp, openapi.bp,
                      source_view.bp, compare_pages.bp, rerun.bp):
        app.register_blueprint(blueprint)
    # API clients (curl, CI) send no cookies, so there is no session for CSRF to ride on.
    csrf.exempt(api.bp)
    errors.init_app(app)
    rate_limits.init_app(app)
    finished_cache.init_app(app)
    diff_builds.init_app(app)
    security.init_app(app)
    # Every page says so when scripts run without isolation (the API adds it to its JSON).
    app.context_processor(lambda: {"sandbox_warning": sandbox_warning(current_app.config)})
    # Sizes on every page in binary units: {{ n|human_size }} -> "1 MiB".
    app.add_template_filter(human_size)
    app.add_template_filter(pct)
