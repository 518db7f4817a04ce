"""schemathesis against the live app: generated requests for every documented operation.

Stateless, a few examples per operation (CI's time limit): no answer may be a 500, and every
answer must be documented, with its documented media type and shape. The LMS API runs with an
lms token; the admin's reads with a signed-in admin's session cookie and its writes with an
admin token, over a world with a review, an exam, a configuration and a receiver in it, so that
lists have rows and generated filters meet them.
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
from webtest import TestApp

from proctorhub.security.session import COOKIE_NAME

from ... import factories as f
from ..admin.conftest import receive_review, sign_in, staff_with_password

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 8
# schemathesis asks for gzip, and its WSGI client hands the checks the body as it came: plain, please.
PLAIN = {"Accept-Encoding": "identity"}


def run_examples(operation, headers: dict, cookies: dict | None = None) -> None:
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers={**PLAIN, **headers}, cookies=cookies, checks=CHECKS)

    run()


def admin_world(app, dbsession) -> dict:
    """A signed-in admin's session cookie (name: value), after a review, a configuration and a receiver exist."""
    testapp = TestApp(app)
    receive_review(testapp, dbsession, course="course-A")
    f.configuration(dbsession)
    admin = staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(testapp, admin.email)
    testapp.post_json("/admin/lms/default/webhooks/", {"url": "https://hooks.lms.example.edu/in"},
                      headers={**f.auth(f.token(dbsession, role="admin", name="setup")), "Accept": "application/json"},
                      status=201)
    return {COOKIE_NAME: testapp.cookies[COOKIE_NAME]}


def test_generated_requests_for_every_operation(app, dbengine, dbsession):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The credentials are the test's own: a made-up bearer token would outrank the session cookie.
    schema.config.generation.update(with_security_parameters=False)
    lms = f.auth(f.token(dbsession, name="schemathesis"))
    session_cookie = admin_world(app, dbsession)
    admin_token = f.auth(f.token(dbsession, role="admin", name="schemathesis admin"))
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/admin") and operation.method.upper() == "GET":
            run_examples(operation, {}, cookies=session_cookie)
        elif operation.path.startswith("/admin"):
            run_examples(operation, admin_token)
        else:
            run_examples(operation, lms if operation.definition.raw.get("security") else {})
        tried.append(operation.label)
    assert len(tried) >= 55, tried
    assert "GET /admin/reviews/" in tried and "POST /admin/reviews/bulk" in tried
