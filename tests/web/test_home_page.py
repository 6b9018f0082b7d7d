"""The home page's server side: examples with their one-line descriptions, refusals shown at their
field with the other values kept, and the event that lets a browser list the reports it made."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import pytest

from .conftest import post_form, report_count
from .live import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples"


def first_docstring_line(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())).splitlines()[0]


def tag(html: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    found = re.search(rf'<[a-z]+\s[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no element with id {element_id}"
    return found.group(0)


def test_every_example_is_offered_with_the_first_line_of_its_docstring(client):
    page = client.get("/").get_data(as_text=True)
    examples = sorted(EXAMPLES_DIR.glob("[!_]*.py"))
    assert examples
    for path in examples:
        description = first_docstring_line(path).replace("'", "&#39;").replace('"', "&#34;")
        assert f'<option value="{path.stem}" data-description="{description}"' in page
    assert 'aria-describedby="example-description"' in tag(page, "example")


BAD_FIELDS = [
    pytest.param({"source": "code", "code": "x = 1\n", "args": '--name "unclosed'}, "args",
                 "could not be split like a shell command line", id="args"),
    pytest.param({"source": "code", "code": "x = 1\n", "duration": "1.5"}, "duration", "whole number", id="duration"),
    pytest.param({"source": "code", "code": "x = 1\n", "native": "1", "nonblocking": "1"}, "nonblocking",
                 "cannot be combined", id="modes"),
    pytest.param({"source": "example", "example": "nope"}, "example", "no example script called", id="example"),
    pytest.param({"source": "script", "script": (io.BytesIO(b"x"), "notes.txt")}, "script",
                 "is not a Python script", id="script"),
    pytest.param({"profile": (io.BytesIO(b"{}"), "broken.json")}, "profile", "", id="profile"),
]


@pytest.mark.parametrize(("fields", "field", "sentence"), BAD_FIELDS)
def test_a_refusal_stands_at_its_field_and_the_other_values_stay(client, store, fields, field, sentence):
    response = post_form(client, fields | {"rate": "77"}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and report_count(store) == 0
    field_tag = tag(body, field)
    assert 'aria-invalid="true"' in field_tag
    assert re.search(r'aria-describedby="[^"]*\b' + field + r'-error\b', field_tag)
    message = re.search(rf'<p class="alert alert-error" data-field-error="{field}" id="{field}-error" '
                        r'role="alert">([^<]+)</p>', body)
    assert message and sentence in message.group(1).replace("&#39;", "'")
    assert body.count('class="alert alert-error"') == 1  # at the field only, not again above the form
    if "profile" not in fields:  # the script form keeps what was entered
        assert 'value="77"' in tag(body, "rate")


def test_an_htmx_submission_tells_the_browser_which_report_it_made(client):
    response = post_form(client, {"source": "code", "code": "x = 1\n"}, headers={"HX-Request": "true"})
    created = json.loads(response.headers["HX-Trigger"])["flamedeck:report-created"]
    assert created["url"] == response.headers["HX-Push-Url"] == f"/r/{created['id']}"
    assert (created["title"], created["status"]) == ("pasted_code.py", "queued")
