"""Real answers checked against GET /api/v1/openapi.json."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from ... import factories as f

ROOT = "urn:proctorhub:openapi"


class Document:
    def __init__(self, document: dict):
        self.document = document
        self.registry = Registry().with_resource(ROOT, Resource.from_contents(
            document, default_specification=__import__("referencing.jsonschema").jsonschema.DRAFT202012))

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        for template, item in self.document["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in item:
                return template, item[method.lower()]
        raise AssertionError(f"{method} {path} is not in the document")

    def check(self, method: str, path: str, response) -> None:
        template, operation = self.operation(method, path.split("?")[0])
        status = str(response.status_int)
        assert status in operation["responses"], f"{method} {template}: {status} is not documented"
        content = operation["responses"][status].get("content", {})
        media = response.content_type
        assert media in content, f"{method} {template} {status}: {media} is not documented"
        pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in
                           ("paths", template, method.lower(), "responses", status, "content", media, "schema"))
        validator = Draft202012Validator({"$ref": f"{ROOT}#/{pointer}"}, registry=self.registry)
        body = response.json if media.endswith("json") else response.text
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{method} {template} {status}: " + "; ".join(e.message for e in errors[:3])


@pytest.fixture
def document(testapp):
    served = testapp.get("/api/v1/openapi.json").json
    assert served["openapi"] == "3.1.0"
    Draft202012Validator.check_schema(served["components"]["schemas"]["Attempt"])
    return Document(served)


def call(testapp, document, method, path, **kw):
    response = getattr(testapp, method.lower() + ("_json" if "json" in kw else ""))(
        path, *([kw.pop("json")] if "json" in kw else []), expect_errors=True, **kw)
    document.check(method, path, response)
    return response


def test_the_lms_api_answers_as_documented(testapp, document, dbsession):
    lms = f.auth(f.token(dbsession))
    body = {"backend": "rest", "user": {"id": "learner-1", "email": "ada@example.edu"},
            "context": {"id": "course-1"}, "resource_link": {"id": "final"}, "attempt_number": 1,
            "exam": {"name": "Final", "time_limit_mins": 60}}
    created = call(testapp, document, "POST", "/api/v1/attempts", json=body, headers=lms)
    assert created.status_int == 201
    assert call(testapp, document, "POST", "/api/v1/attempts", json=body, headers=lms).status_int == 200
    code = created.json["attempt_code"]
    assert call(testapp, document, "GET", f"/api/v1/attempts/{code}", headers=lms).status_int == 200
    assert call(testapp, document, "GET", "/api/v1/attempts/nope", headers=lms).status_int == 404
    assert call(testapp, document, "GET", f"/api/v1/attempts/{code}").status_int == 401
    assert call(testapp, document, "POST", "/api/v1/attempts", json={"user": {}}, headers=lms).status_int == 400
    assert call(testapp, document, "GET", "/api/v1/end-assessment-return?user_id=learner-1&resource_link_id=final",
                headers=lms).status_int == 200
    payload, headers = f.signed("rest", {"attempt_code": code, "status": "suspicious",
                                         "comments": [{"start": 1, "stop": 5, "duration": 4, "comment": "x",
                                                       "status": "suspicious"}]})
    assert call(testapp, document, "POST", "/api/v1/reviews/rest", params=payload, headers=headers).status_int == 200
    assert call(testapp, document, "POST", "/api/v1/reviews/rest", params=payload,
                headers={"Content-Type": "application/json"}).status_int == 401
    assert call(testapp, document, "POST", "/api/v1/reviews/nobody", params=payload, headers=headers).status_int == 404
    reviewed = call(testapp, document, "GET", f"/api/v1/attempts/{code}", headers=lms)
    assert reviewed.json["review"]["comments"][0]["comment"] == "x"
    assert call(testapp, document, "DELETE", f"/api/v1/attempts/{code}", headers=lms).status_int == 200


def test_launches_submit_and_the_token_endpoint(testapp, document, dbsession):
    lms = f.auth(f.token(dbsession))
    configuration = f.configuration(dbsession)
    body = {"config_id": configuration.id, "message_type": "LtiStartProctoring",
            "user": {"id": "learner-2", "role": "learner"}, "resource_link": {"id": "mid"},
            "context": {"id": "course-2"}, "attempt_number": 1, "return_url": "https://lms.test/back"}
    launched = call(testapp, document, "POST", "/api/v1/launches", json=body, headers=lms)
    assert launched.status_int == 201
    code = launched.json["attempt"]["attempt_code"]
    assert call(testapp, document, "POST", f"/api/v1/attempts/{code}/submit", headers=lms).status_int == 200
    refused = call(testapp, document, "POST", "/lti/token", params={"grant_type": "password"})
    error = refused.json["error"]
    assert (error["code"] if isinstance(error, dict) else error) == "unsupported_grant_type"
    assert call(testapp, document, "POST", "/lti/acs", json={}).status_int == 401


def test_operations_answer_as_documented(testapp, document):
    for path in ("/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"):
        assert call(testapp, document, "GET", path).status_int == 200
