"""Web basics: CSP without inline scripts or eval, nosniff, frame and referrer policies, no inline JS."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import insert_done_report

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_page_sends_the_security_headers(client, store):
    report = insert_done_report(store)
    for url in ("/", f"/r/{report.token}", "/r/unknown", f"/api/v1/reports/{report.token}"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'self'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_event_handlers_and_htmx_has_no_eval(client, store):
    report = insert_done_report(store)
    for url in ("/", f"/r/{report.token}"):
        page = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", page):
            assert "src=" in tag, f"inline script on {url}: {tag}"
        assert not re.search(r"\son[a-z]+=", page), f"inline event handler on {url}"
        assert '"allowEval": false' in page and '"allowScriptTags": false' in page
        assert "/static/vendor/htmx/htmx.min.js" in page


def test_templates_never_mark_data_safe():
    for template in TEMPLATES.rglob("*.html"):
        assert "|safe" not in template.read_text().replace(" ", ""), template


def test_the_session_cookie_is_http_only_and_same_site(client):
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_bundled_speedscope_is_served_with_its_own_policy(client):
    response = client.get("/speedscope/index.html")
    assert response.status_code == 200 and b"speedscope" in response.data
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp and "'unsafe-eval'" not in csp
    assert "connect-src 'self'" in csp
    assert client.get("/speedscope/../../webapp/config.py").status_code == 404
