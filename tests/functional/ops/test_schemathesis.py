"""schemathesis against the live app: generated requests for every documented operation.

Stateless, a few examples per operation (CI's time limit): no answer may be a 500, and every
answer must be documented, with its documented media type and shape.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ... import factories as f

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 8


def run_examples(operation, headers: dict) -> None:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_generated_requests_for_every_operation(app, dbengine, dbsession):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    lms = f.auth(f.token(dbsession, name="schemathesis"))
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        run_examples(operation, lms if operation.definition.raw.get("security") else {})
        tried.append(operation.label)
    assert len(tried) >= 12, tried
