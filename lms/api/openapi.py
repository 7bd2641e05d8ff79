"""API routes that describe themselves, and the OpenAPI 3.1 document written from them.

A view is registered with `Router.route(...)`, which names its request model, its answer
models and the errors it may give. The same declaration registers the Flask rule,
validates the body (`models.parse`) before the view runs, turns the model the view
returns into JSON, and becomes the view's entry in `/api/v1/openapi.json`; the schemas
come from the pydantic models themselves (`model_json_schema`). A route added to the
blueprint any other way is missing from the document, which `tests/api/test_openapi.py`
refuses.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from lms.api import models
from lms.api.errors import PROBLEM_MIMETYPE

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    endpoint: str
    method: str
    rule: str
    summary: str
    answers: dict[int, tuple[type[BaseModel] | None, str]]
    body: type[BaseModel] | None = None
    public: bool = False
    errors: tuple[int, ...] = ()

    @property
    def path(self) -> str:
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", self.rule)


@dataclass
class Router:
    """Registers documented routes on `bp`; `operations` is what the document lists."""

    bp: Blueprint
    operations: list[Operation] = field(default_factory=list)

    def route(self, method: str, rule: str, *, summary: str, answers: dict[int, tuple[type[BaseModel] | None, str]],
              body: type[BaseModel] | None = None, public: bool = False,
              errors: tuple[int, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
        def register(view: Callable[..., Any]) -> Callable[..., Response]:
            operation = Operation(view.__name__, method.lower(), f"{self.bp.url_prefix or ''}{rule}", summary,
                                  answers, body, public, errors)

            @functools.wraps(view)
            def respond(**values: Any) -> Response:
                if body is not None:
                    values["body"] = models.parse(body, models.json_body())
                return _response(view(**values))

            respond.is_public = public  # type: ignore[attr-defined]
            self.bp.add_url_rule(rule, view.__name__, respond, methods=[method])
            self.operations.append(operation)
            return respond
        return register


def _response(result: Any) -> Response:
    """A model (or `(model, status)`) as JSON; Flask's encoder, so the bytes stay as they were."""
    if isinstance(result, Response):
        return result
    if isinstance(result, dict):
        return jsonify(result)
    model, status = result if isinstance(result, tuple) else (result, 200)
    response = jsonify(model.model_dump(mode="json", exclude_unset=True))
    response.status_code = status
    return response


# --- The document ---------------------------------------------------------------------

class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema without a title on every field (names say it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


ERROR_RESPONSES = {
    400: ("BadRequest", "The request is malformed: invalid-json, invalid-request (see `field`), invalid-language, "
                        "no-events, too-many-events, code-mistyped"),
    401: ("Unauthorized", "token-missing or token-invalid (or, for a login, login-invalid)"),
    403: ("Forbidden", "learner-required: only a learner's account can do this; password-change-required; "
                       "not-allowed: the unit is outside the account's scope"),
    404: ("NotFound", "course-not-found, lesson-not-found, quiz-unavailable, course-unavailable, certificate-unknown, "
                      "unit-not-found"),
    409: ("Conflict", "attempt-id-reused, or write-conflict (send the request again)"),
    413: ("PayloadTooLarge", "http-413: the request body is larger than the server accepts"),
    422: ("Unprocessable", "Well-formed but refused, e.g. quiz-incomplete, quiz-locked, quiz-invalid-answer, "
                           "quiz-unknown-question"),
    429: ("TooManyRequests", "login-throttled: too many failed logins"),
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 0}}},
}
LANGUAGE_PARAMETERS = {
    "lang": {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["vi", "en"]},
             "description": "Language of content and messages; overrides Accept-Language. Default vi."},
    "Accept-Language": {"name": "Accept-Language", "in": "header", "required": False, "schema": {"type": "string"}},
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


Mode = Literal["validation", "serialization"]


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], Mode]]:
    found: dict[type[BaseModel], Mode] = {models.Problem: "serialization"}
    for operation in operations:
        if operation.body is not None:
            found[operation.body] = "validation"
        for model, _description in operation.answers.values():
            if model is not None:
                found[model] = "serialization"
    return list(found.items())


def _path_parameters() -> dict[str, dict[str, Any]]:
    parameters: dict[str, dict[str, Any]] = {}
    for name, (annotation, description) in models.PATH_PARAMETERS.items():
        parameter = {"name": name, "in": "path", "required": True,
                     "schema": TypeAdapter(annotation).json_schema(schema_generator=_Schemas)}
        if description:
            parameter["description"] = description
        parameters[name] = parameter
    return parameters


def _operation(operation: Operation) -> dict[str, Any]:
    statuses = {400, *operation.errors} | (set() if operation.public else {401}) | ({413} if operation.body else set())
    path_names = re.findall(r"{(\w+)}", operation.path)
    responses: dict[str, Any] = {}
    for status, (model, description) in sorted(operation.answers.items()):
        responses[str(status)] = {"description": description}
        if model is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": _ref(model)}}
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    document: dict[str, Any] = {
        "operationId": operation.endpoint,
        "summary": operation.summary,
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in (*path_names, *LANGUAGE_PARAMETERS)],
        "responses": responses,
    }
    if operation.public:
        document["security"] = []
    if operation.body is not None:
        document["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(operation.body)}}}
    return document


def document(router: Router) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route `router` registered."""
    _keys, definitions = models_json_schema(_models(router.operations), ref_template=REF, schema_generator=_Schemas)
    paths: dict[str, dict[str, Any]] = {}
    for operation in router.operations:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation)
    problem = {"schema": _ref(models.Problem)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bình dân học vụ số learning API",
            "version": "1.0.0",
            "description": "Courses, lessons, quizzes and progress for learner apps, certificate checks and "
                           "statistics. Authenticate with a bearer token from POST /api/v1/tokens. Errors are "
                           "RFC 9457 problem details (application/problem+json) with a stable `code` and a "
                           "`detail` in the language of the request.",
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": definitions.get("$defs", {}),
            "responses": {name: {"description": description, "content": {PROBLEM_MIMETYPE: problem},
                                 **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {})}
                          for status, (name, description) in ERROR_RESPONSES.items()},
            "parameters": {**_path_parameters(), **LANGUAGE_PARAMETERS},
        },
    }
