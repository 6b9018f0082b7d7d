"""The OpenAPI description: served, generated from the code, and held to by the live app (schemathesis)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .live import free_port, serve

# Only what the description promises: no 500 for any input, and every answer's status, content
# type, headers and body as documented. (Checks such as "valid-looking data is accepted" do not
# fit a multipart form whose fields are alternatives, and are left out on purpose.)
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")
MAX_TIME_S = 40  # schemathesis's own budget for the whole run, so CI time stays bounded
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_the_description_is_openapi_3_1_and_covers_every_api_operation(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert operations == {("/api/v1/environment", "get"), ("/api/v1/reports", "post"), ("/api/v1/reports/{token}", "get"),
                          ("/api/v1/reports/{token}", "delete"), ("/api/v1/reports/{token}/cancel", "post"),
                          ("/api/v1/compare/{base}/{head}", "get")}
    created = document["paths"]["/api/v1/reports"]["post"]["responses"]
    assert {"202", "400", "401", "413", "429", "503"} <= set(created)
    assert created["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Created"}
    # Generated from the marshmallow schemas: a nullable field is a 3.1 type list, not 3.0's "nullable".
    report = document["components"]["schemas"]["Report"]
    assert report["properties"]["finished_at"]["type"] == ["number", "null"]
    # Every form field is in the body's schema, the files as OpenAPI 3.1 file parts.
    submission = document["components"]["schemas"]["Submission"]["properties"]
    assert {"baseline", "script_name", "code", "profile"} <= set(submission)
    assert submission["profile"] == submission["script"] | {"description": submission["profile"]["description"]}
    assert submission["profile"]["contentMediaType"] == "application/octet-stream"
    compared = document["paths"]["/api/v1/compare/{base}/{head}"]["get"]["responses"]
    assert set(compared["200"]["content"]) == {"application/json", "text/markdown"}
    assert {"400", "404", "409"} <= set(compared)


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_description(tmp_path):
    with serve(tmp_path / "data", free_port(), workers=1, log_path=tmp_path / "serve.log") as (_, url):
        result = subprocess.run(
            [str(SCHEMATHESIS), "run", f"{url}/api/v1/openapi.json", "--checks", ",".join(CHECKS),
             "--max-examples", "25", "--max-time", str(MAX_TIME_S), "--seed", "1", "--workers", "1",
             "--request-timeout", "20", "--no-color"],
            capture_output=True, text=True, timeout=MAX_TIME_S + 60)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "6 selected / 6 total" in result.stdout  # it really tested every operation
