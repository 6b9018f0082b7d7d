"""Run again and Edit and run again: same script and options, the new report names the old one as its baseline."""

from __future__ import annotations

import html
import re

from .compare_support import BASE_SOURCE, OPTIONS, store_script_report, synthetic_profile
from .conftest import csrf_token, row


def _script_report(store, **options):
    report = store_script_report(store, synthetic_profile({"hot": 200, "steady": 300}), BASE_SOURCE,
                                 OPTIONS | {"rate_hz": 250, "gil": True, "args": ["--size", "a b"]} | options)
    with store.writing() as session:  # as a worker leaves it: the script's source is kept
        session.get(type(report), report.id).script_source = BASE_SOURCE
    return report


def test_run_again_submits_the_same_script_and_options_with_the_old_report_as_baseline(client, store):
    old = _script_report(store)
    page = client.get(f"/r/{old.token}").get_data(as_text=True)
    assert f'href="/r/{old.token}/again"' in page and f'href="/compare/with/{old.token}"' in page
    assert 'class="rerun-form"' not in page  # a page cached for every reader carries no CSRF token
    with client.session_transaction() as session:  # this browser made the report: one click, in the header
        session["delete_tokens"] = [[old.token, "its delete token"]]
    page = client.get(f"/r/{old.token}").get_data(as_text=True)
    button = page[page.index('class="rerun-form"'):page.index("Run again</button>")]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', button))
    fields = {name: html.unescape(value) for name, value in fields.items()}
    assert fields["csrf_token"] == csrf_token(client)
    assert fields["baseline"] == old.token and fields["script_name"] == "app.py" and fields["gil"] == "1"
    assert fields["args"] == "--size 'a b'" and fields["code"] == BASE_SOURCE
    submitted = client.post("/reports", data=fields, content_type="multipart/form-data")
    assert submitted.status_code == 303
    new = row(store, submitted.headers["Location"].rsplit("/", 1)[1])
    assert new.baseline_token == old.token and new.script_name == "app.py" and new.script_source == BASE_SOURCE
    assert {key: new.options[key] for key in ("rate_hz", "gil", "args")} == {
        "rate_hz": 250, "gil": True, "args": ["--size", "a b"]}


def test_edit_and_run_again_prefills_the_form_and_the_new_report_links_its_comparison(client, store):
    old = _script_report(store)
    form = client.get(f"/r/{old.token}/again").get_data(as_text=True)
    assert 'class="rerun-form"' in form and "Run again</button>" in form  # the same button for every reader
    assert html.escape(BASE_SOURCE, quote=False) in form and f'name="baseline" value="{old.token}"' in form
    assert 'value="250"' in form and 'id="source-code" name="source" value="code" checked' in form
    new = store_script_report(store, synthetic_profile({"hot": 400, "steady": 300}), BASE_SOURCE,
                              baseline_token=old.token)
    page = client.get(f"/r/{new.token}").get_data(as_text=True)
    assert f'href="/compare/{old.token}...{new.token}"' in page and "Compare with it" in page
    imported = client.get(f"/r/{old.token}x/again")
    assert imported.status_code == 404
