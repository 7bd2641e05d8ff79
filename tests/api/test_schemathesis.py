"""Schemathesis against the served OpenAPI document, through the WSGI app, with a real token.

One test per documented operation and generation mode, each in its own rolled-back
transaction with a fresh token: a few valid, or a few invalid, requests are generated (derandomised, so
a failure reproduces). Every answer must be no server error, with a documented status,
content type and headers and a body matching the documented schema; invalid requests
must be refused with a 4xx. Path parameters are pinned to the test course (a generated
slug would only ever find a 404, which other tests cover).

We drive Schemathesis through `APIOperation.as_strategy` instead of its pytest plugin:
the plugin's `from_fixture` (needed for a schema loaded from a fixture's app) reads the
private `Node._nodeid`, which pytest 9.2 no longer has.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks, not_a_server_error

from lms.api.views import openapi_document
from tests.api.conftest import COURSE_SLUG

load_all_checks()
from schemathesis.specs.openapi.checks import (  # noqa: E402 - defined once the checks are loaded
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
PATH_PARAMETERS = {"slug": COURSE_SLUG, "lesson_slug": "lesson-1"}
RUNS = [pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
        for path, item in openapi_document()["paths"].items() for method in item for mode in EXAMPLES]


@pytest.mark.parametrize("method, path, mode", RUNS)
def test_operation_matches_the_document(app, course, api, method, path, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    params = {name: value for name, value in PATH_PARAMETERS.items() if f"{{{name}}}" in path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=params,
                                     # identity: schemathesis's WSGI transport reads the body as sent, and
                                     # would not undo the gzip a real HTTP client accepts and unpacks.
                                     headers={"Authorization": f"Bearer {api.token}", "Accept-Encoding": "identity"})

    @given(case=strategy)
    @settings(max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()
