"""``/api/v1/openapi.json``: the API's OpenAPI 3.1 description, generated from the code.

apispec reads the API blueprint's routes from Flask (FlaskPlugin), each operation from the
YAML after ``---`` in its view's docstring, and the request and answer shapes from the
marshmallow schemas in ``api_schemas`` — so the description moves with the code, and a
schemathesis run in the tests holds the code to it.
"""

from __future__ import annotations

from importlib.metadata import version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, current_app, jsonify

from webapp.views import api_schemas

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
SCHEMAS = {
    "Error": api_schemas.ErrorSchema,
    "Created": api_schemas.CreatedSchema,
    "Report": api_schemas.ReportSchema,
    "Submission": api_schemas.SubmissionSchema,
    "Comparison": api_schemas.ComparisonSchema,
    "Environment": api_schemas.EnvironmentSchema,
}
SECURITY_SCHEMES = {
    "uploadToken": {"type": "http", "scheme": "bearer",
                    "description": "Needed to submit only when the operator set FLAMEDECK_UPLOAD_TOKEN."},
    "deleteToken": {"type": "apiKey", "in": "header", "name": "X-Delete-Token",
                    "description": "The report's owner key, returned once when it was created."},
}


@bp.get("/openapi.json")
def document():
    """This API's OpenAPI 3.1 description."""
    spec = current_app.extensions.get("flamedeck.openapi")
    if spec is None:
        spec = current_app.extensions["flamedeck.openapi"] = build(current_app)
    return jsonify(spec)


REPORT_ERRORS = {  # response name: what it means (the body is an Error)
    "NotFound": "No report has this id.",
    "Deleted": "This report was deleted.",
    "WrongDeleteToken": "The X-Delete-Token header is missing or wrong.",
}


def build(app: Flask) -> dict:
    """The OpenAPI document of ``app``'s API blueprint."""
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="flamedeck",
        version=version("flamedeck"),
        openapi_version="3.1.0",
        plugins=[FlaskPlugin(), marshmallow],
        info={"description": "Profile a Python script with py-spy inside a sandbox, or import a profile; "
                             "read the report and its downloads. Errors are JSON: {\"error\": \"<sentence>\"}."},
    )
    marshmallow.converter.add_attribute_function(content_keywords)
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    # Shared by every operation on one report: the docstrings name them ("404": NotFound).
    spec.components.parameter("token", "path", {"schema": {"type": "string"}, "description": "The report's id."})
    for name, description in REPORT_ERRORS.items():
        spec.components.response(name, {"description": description,
                                        "content": {"application/json": {"schema": "Error"}}})
    with app.test_request_context():
        for endpoint, view in sorted(app.view_functions.items()):
            if endpoint.startswith("api."):
                spec.path(view=view, app=app)
    return spec.to_dict()


def content_keywords(_converter, field, **_kwargs) -> dict:
    """JSON Schema's content keywords from a field's metadata: apispec passes on only the keywords
    it knows, and OpenAPI 3.1 describes a file part of a multipart body with ``contentMediaType``."""
    return {key: field.metadata[key] for key in ("contentMediaType", "contentEncoding") if key in field.metadata}
