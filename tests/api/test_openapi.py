"""The OpenAPI document describes exactly the routes there are, and they all live in lms/api."""

from __future__ import annotations

import json
import re

# The OpenAPI 3.1 meta-schema, as Schemathesis (pinned) ships it.
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from lms.api import models
from lms.api.views import openapi_document

DOCUMENT = openapi_document()


def _routes(app) -> set[tuple[str, str, str]]:
    """(path, method, view name) of every /api/v1 rule, with `<slug>` written `{slug}`."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            view = rule.endpoint.rsplit(".", 1)[-1]
            routes |= {(path, method.lower(), view) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def _documented() -> set[tuple[str, str, str]]:
    return {(path, method, operation["operationId"])
            for path, item in DOCUMENT["paths"].items() for method, operation in item.items()}


def test_every_route_is_documented_and_nothing_else(app):
    assert _routes(app) == _documented()


def test_every_api_route_is_served_by_the_api_package(app):
    """One blueprint, one authentication path: no other room serves /api/v1."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert {endpoint.split(".", 1)[0] for endpoint in endpoints} == {"api"}
    assert all(app.view_functions[endpoint].__module__ == "lms.api.views" for endpoint in endpoints)


def test_schemas_are_the_models_own(client):
    """The document's request and answer schemas come from the pydantic models, limits included."""
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    event = schemas["ProgressEvent"]
    assert event["additionalProperties"] is False and event["required"] == ["id", "lesson_id", "kind"]
    assert event["properties"]["lesson_id"] == {"type": "integer", "minimum": 1, "maximum": models.MAX_ID}
    assert event["properties"]["progress"] == {"type": "integer", "minimum": 0, "maximum": 100,
                                               "description": "For `progress`; never lowers what was recorded"}
    assert schemas["ProgressBatch"]["properties"]["events"]["maxItems"] == models.MAX_EVENTS
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
    for name, schema in schemas.items():
        if schema.get("type") == "object" and "properties" in schema:
            assert schema["additionalProperties"] is False, name


def test_document_is_valid_openapi_3_1():
    errors = [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(json.loads(json.dumps(DOCUMENT)))]
    assert errors == []


def test_path_parameters_match_the_routes():
    for path, item in DOCUMENT["paths"].items():
        for operation in item.values():
            names = {ref["$ref"].rsplit("/", 1)[1] for ref in operation["parameters"]}
            in_path = {name for name in names if DOCUMENT["components"]["parameters"][name]["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path)), path


def test_document_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["openapi"].startswith("3.1") and body["paths"].keys() == DOCUMENT["paths"].keys()
    assert body["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


def test_only_logging_in_the_document_and_certificate_checks_are_public():
    public = {path for path, item in DOCUMENT["paths"].items()
              for operation in item.values() if operation.get("security") == []}
    assert public == {"/api/v1/tokens", "/api/v1/openapi.json", "/api/v1/certificates/{code}"}
