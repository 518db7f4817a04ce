"""Real answers checked against GET /api/v1/openapi.json."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pytest
from jsonschema import Draft202012Validator
from pyramid.interfaces import IRoutesMapper
from referencing import Registry, Resource
from webtest import TestApp

from proctorhub.admin.resources import (
    AdminRoot,
    AttemptResource,
    AttemptsResource,
    BackendsResource,
    ConfigurationResource,
    ConfigurationsResource,
    ExamResource,
    ExamsResource,
    LmsResource,
    LmssResource,
    RegistrationResource,
    RegistrationsResource,
    ReviewResource,
    ReviewsResource,
)
from proctorhub.models import Delivery, DeliveryTry, Event, utcnow
from proctorhub.webhooks.resources import DeliveriesResource, DeliveryResource, WebhookResource, WebhooksResource

from ... import factories as f
from ..admin.conftest import HTML, csrf_from, receive_review, sign_in, staff_token, staff_with_password

ROOT = "urn:proctorhub:openapi"


class Document:
    def __init__(self, document: dict):
        self.document = document
        self.registry = Registry().with_resource(ROOT, Resource.from_contents(
            document, default_specification=__import__("referencing.jsonschema").jsonschema.DRAFT202012))
        # (METHOD, path template, status) of every answer checked.
        self.checked: set[tuple[str, str, int]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        # A path without parameters wins over a template that also matches (/admin/reviews/bulk
        # over /admin/reviews/{review_id}), as OpenAPI says.
        for template, item in sorted(self.document["paths"].items(), key=lambda pair: pair[0].count("{")):
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
        self.checked.add((method.upper(), template, response.status_int))


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


# -- the admin's JSON ---------------------------------------------------------------------------------

HOOK = "https://hooks.lms.example.edu/proctorhub"
TOOL = {"name": "Sandbox proctoring", "oidc_login_url": "https://tool.test/login",
        "launch_url": "https://tool.test/launch", "redirect_uris": ["https://tool.test/launch"],
        "jwks_url": "https://tool.test/jwks", "acs_actions": ["pause"], "backend": "rest"}


class AdminWalk:
    """Calls to the admin, each checked against the document: as a signed-in admin (session cookie
    and CSRF token), as a reviewer of course-A (bearer token), and as nobody."""

    def __init__(self, app, testapp, document, dbsession):
        self.document = document
        self.session = testapp
        self.anonymous = TestApp(app)
        sign_in(testapp, staff_with_password(dbsession, "admin@example.edu", role="admin").email)
        csrf = csrf_from(testapp.get("/admin/reviews/", headers=HTML).text)
        self.admin = {"Accept": "application/json", "X-CSRF-Token": csrf}
        self.no_csrf = {"Accept": "application/json"}
        reviewer = staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
        self.reviewer = {**f.auth(staff_token(dbsession, reviewer)), "Accept": "application/json"}

    def __call__(self, method, path, status, code=None, *, who=None, **kw):
        """``who``: the headers to send (default: the admin's, on the session); ``"anonymous"``: no
        credentials at all, from a client without the session cookie."""
        app = self.anonymous if who == "anonymous" else self.session
        headers = {} if who == "anonymous" else (who or self.admin)
        response = call(app, self.document, method, path, headers=headers, **kw)
        assert response.status_int == status, (method, path, response.status_int, response.text[:300])
        if code is not None:
            assert response.json["error"]["code"] == code, response.json
        return response.json


def test_every_admin_operation_answers_as_documented(app, testapp, document, dbsession):
    walk = AdminWalk(app, testapp, document, dbsession)
    review = receive_review(testapp, dbsession, course="course-A", status="suspicious",
                            comments=[{"start": 1, "stop": 9, "duration": 8, "comment": "phone", "status": "x"}])
    _index_and_backends(walk)
    _lms_and_webhooks(walk, dbsession)
    _configurations_and_registrations(walk, dbsession)
    _exams_and_attempts(walk, review)
    _reviews(walk, review)
    admin_operations = documented_admin_operations(document.document)
    assert len(admin_operations) >= 40
    for outcome, kept in (("a success", range(200, 300)), ("a refusal", range(400, 500))):
        seen = {(method, template) for method, template, status in document.checked if status in kept}
        assert not admin_operations - seen, f"never checked with {outcome}: {sorted(admin_operations - seen)}"


def _index_and_backends(walk):
    assert set(walk("GET", "/admin/", 200)["links"]) >= {"lms", "configurations", "reviews", "backends"}
    assert "lms" not in walk("GET", "/admin/", 200, who=walk.reviewer)["links"]
    walk("GET", "/admin/", 401, "unauthenticated", who="anonymous")
    assert "rest" in [b["name"] for b in walk("GET", "/admin/backends/", 200)["backends"] if b["enabled"]]
    walk("GET", "/admin/backends/", 401, who="anonymous")


def _lms_and_webhooks(walk, dbsession):
    assert walk("POST", "/admin/lms/", 201, json={"name": "Moodle", "slug": "moodle"})["slug"] == "moodle"
    walk("POST", "/admin/lms/", 409, "lms_exists", json={"name": "Moodle again", "slug": "moodle"})
    walk("POST", "/admin/lms/", 403, "bad_csrf_token", who=walk.no_csrf, json={"name": "Blackboard"})
    assert [lms["slug"] for lms in walk("GET", "/admin/lms/", 200)["lms"]] == ["default", "moodle"]
    walk("GET", "/admin/lms/", 403, "forbidden", who=walk.reviewer)
    walk("GET", "/admin/lms/moodle", 200)
    walk("GET", "/admin/lms/nope", 404, "unknown_lms")

    hooks = "/admin/lms/default/webhooks/"
    created = walk("POST", hooks, 201, json={"url": HOOK, "events": ["review.received"]})
    walk("POST", hooks, 400, "invalid_url", json={"url": "javascript:alert(1)"})
    hook = f"{hooks}{created['id']}"
    assert [w["id"] for w in walk("GET", hooks, 200)["webhooks"]] == [created["id"]]
    walk("GET", "/admin/lms/nope/webhooks/", 404, "unknown_lms")
    walk("GET", hook, 200)
    walk("GET", f"{hooks}999999", 404, "unknown_webhook")
    assert walk("PATCH", hook, 200, json={"enabled": False})["enabled"] is False
    walk("PATCH", hook, 400, "invalid_payload", json={"enabled": "no"})
    assert walk("PUT", hook, 200, json={"description": "grades"})["description"] == "grades"
    walk("PUT", hook, 400, "unknown_event_type", json={"events": ["review.recieved"]})
    assert walk("POST", f"{hook}/rotate-secret", 200)["secret"] != created["secret"]
    walk("POST", f"{hooks}999999/rotate-secret", 404, "unknown_webhook")

    delivery = _a_failed_delivery(dbsession, created["id"])
    for deliveries in ("/admin/lms/default/deliveries/", f"{hook}/deliveries/"):
        assert [d["id"] for d in walk("GET", deliveries, 200)["deliveries"]] == [delivery]
        walk("GET", deliveries + "?status=lost", 400, "invalid_payload")
        assert walk("GET", f"{deliveries}{delivery}", 200)["attempts"][0]["response_status"] == 500
        walk("GET", f"{deliveries}999999", 404, "unknown_delivery")
        assert walk("POST", f"{deliveries}{delivery}/replay", 200)["status"] == "pending"
        walk("POST", f"{deliveries}999999/replay", 404, "unknown_delivery")
        _lease(dbsession, delivery, seconds=60)  # a worker is sending it
        [listed] = walk("GET", deliveries, 200)["deliveries"]
        assert listed["in_flight"] is True and listed["leased_until"] is not None
        walk("POST", f"{deliveries}{delivery}/replay", 409, "delivery_in_flight")
        _lease(dbsession, delivery, seconds=None)


def _a_failed_delivery(dbsession, endpoint_id) -> int:
    attempt = f.attempt(dbsession, f.exam(dbsession, context_id="course-B"))
    event = Event(kind="review.received", attempt_id=attempt.id, attempt_code=attempt.attempt_code, payload={})
    dbsession.add(event)
    dbsession.flush()
    delivery = Delivery(event_id=event.id, endpoint_id=endpoint_id, attempt_id=attempt.id, kind=event.kind,
                        body="{}", status="failed", tries=7, last_status=500, last_error="HTTP 500")
    dbsession.add(delivery)
    dbsession.flush()
    dbsession.add(DeliveryTry(delivery_id=delivery.id, response_status=500, response_body="no", duration_ms=12))
    dbsession.commit()
    return delivery.id


def _lease(dbsession, delivery_id, *, seconds) -> None:
    row = dbsession.get(Delivery, delivery_id)
    row.leased_until = None if seconds is None else utcnow() + dt.timedelta(seconds=seconds)
    dbsession.commit()


def _configurations_and_registrations(walk, dbsession):
    created = walk("POST", "/admin/configurations/", 201, json=TOOL)
    assert created["tool_setup"]["client_id"] == created["client_id"]
    walk("POST", "/admin/configurations/", 409, "configuration_name_taken", json=TOOL)
    walk("GET", "/admin/configurations/", 200)
    walk("GET", "/admin/configurations/", 403, who=walk.reviewer)
    item = f"/admin/configurations/{created['id']}"
    assert walk("GET", item, 200)["audit"][0]["action"] == "create"
    walk("GET", "/admin/configurations/999999", 404, "not_found")
    for method, changes in (("PATCH", {"proctoring_enabled": False}), ("PUT", {"acs_actions": ["flag"]}),
                            ("POST", {"custom": {"course": "$Context.id"}})):
        walk(method, item, 200, json=changes)
        walk(method, item, 400, "invalid_payload", json={"redirect_uris": []})
    pending = [f.configuration(dbsession, name=f"Registered {n}", status="pending").id for n in (1, 2)]
    for decision, configuration_id, status in (("approve", pending[0], "active"),
                                               ("reject", pending[1], "rejected")):
        assert walk("POST", f"/admin/configurations/{configuration_id}/{decision}", 200)["status"] == status
        walk("POST", f"/admin/configurations/{configuration_id}/{decision}", 409, "nothing_to_approve")

    started = walk("POST", "/admin/registrations/", 201, json={"initiation_url": "https://tool.test/register"})
    assert "registration_token=" in started["redirect_url"]
    walk("POST", "/admin/registrations/", 400, "invalid_payload", json={"initiation_url": "not a url"})
    walk("POST", "/admin/registrations/", 404, "unknown_configuration",
         json={"initiation_url": "https://tool.test/register", "configuration_id": 999999})
    assert [r["id"] for r in walk("GET", "/admin/registrations/", 200)["registrations"]] == [started["id"]]
    walk("GET", "/admin/registrations/", 403, who=walk.reviewer)
    assert walk("GET", f"/admin/registrations/{started['id']}", 200)["status"] == "waiting"
    walk("GET", "/admin/registrations/999999", 404)


def _exams_and_attempts(walk, review):
    exams = walk("GET", "/admin/exams/", 200, who=walk.reviewer)["exams"]
    assert [e["id"] for e in exams] == [review.exam_id]
    walk("GET", "/admin/exams/?limit=0", 400, "invalid_payload")
    exam = f"/admin/exams/{review.exam_id}"
    assert walk("GET", exam, 200)["attempts"][0]["attempt_code"] == review.attempt_code
    walk("GET", "/admin/exams/999999", 404)
    for method, name in (("PATCH", "Final"), ("PUT", "Final exam"), ("POST", "The final")):
        assert walk(method, exam, 200, json={"name": name})["name"] == name
        walk(method, exam, 400, "invalid_payload", json={"is_proctored": "yes"})
    walk("PATCH", exam, 403, "forbidden", who=walk.reviewer, json={"name": "mine"})

    attempts = walk("GET", "/admin/attempts/?course=course-a", 200)["attempts"]
    assert [a["attempt_code"] for a in attempts] == [review.attempt_code]
    walk("GET", "/admin/attempts/?status=lost", 400, "invalid_payload")
    attempt = walk("GET", f"/admin/attempts/{review.attempt_code}", 200, who=walk.reviewer)
    assert attempt["status_history"][-1]["to"] == attempt["status"] == "second_review_required"
    walk("GET", "/admin/attempts/no-such-code", 404)


def _reviews(walk, review):
    queue = walk("GET", "/admin/reviews/?bucket=needs_decision", 200)
    assert ([r["id"] for r in queue["reviews"]], queue["total"]) == ([review.id], 1)
    walk("GET", "/admin/reviews/?sort=newest", 400, "invalid_payload")
    walk("GET", "/admin/reviews/?course=course-B", 403, who=walk.reviewer)
    item = f"/admin/reviews/{review.id}"
    shown = walk("GET", item + "?raw=1", 200)
    assert shown["comments"][0]["comment"] == "phone" and "raw_payload" in shown
    walk("GET", "/admin/reviews/999999", 404, "not_found")

    assert walk("POST", f"{item}/claim", 200)["claimed_by"] == "admin@example.edu"
    walk("POST", f"{item}/claim", 409, "review_conflict", who=walk.reviewer)
    walk("POST", f"{item}/release", 409, "review_conflict", who=walk.reviewer)
    assert walk("POST", f"{item}/release", 200)["claimed_by"] is None

    decided = walk("POST", item, 200, json={"status": "verified", "seen": shown["version"]})
    assert (decided["reviewed_by"], decided["attempt"]["status"]) == ("admin@example.edu", "verified")
    walk("POST", item, 400, "invalid_payload", json={"status": "fine"})
    walk("PUT", item, 409, "review_conflict", who=walk.reviewer, json={"status": "rejected", "seen": 0})
    walk("PUT", item, 200, who=walk.reviewer, json={"status": "rejected", "seen": 0, "confirm": True})
    walk("PATCH", item, 200, json={"status": "passed", "note": "checked the video"})
    walk("PATCH", item, 415, "unsupported_media_type", params="status=passed",
         content_type="application/x-www-form-urlencoded")
    bulk = walk("POST", "/admin/reviews/bulk", 200, json={"ids": [review.id], "status": "rejected"})
    assert [r["status"] for r in bulk["reviews"]] == ["violation"]
    walk("POST", "/admin/reviews/bulk", 404, "not_found", json={"ids": [999999], "status": "passed"})


# -- every JSON view of the admin is in the document, and nothing else is ---------------------------------

# Where each resource of the admin's tree is (a resource class may hang in more than one place).
TREE = {
    AdminRoot: ["/admin/"],
    LmssResource: ["/admin/lms/"],
    LmsResource: ["/admin/lms/{slug}"],
    WebhooksResource: ["/admin/lms/{slug}/webhooks/"],
    WebhookResource: ["/admin/lms/{slug}/webhooks/{webhook_id}"],
    DeliveriesResource: ["/admin/lms/{slug}/deliveries/", "/admin/lms/{slug}/webhooks/{webhook_id}/deliveries/"],
    DeliveryResource: ["/admin/lms/{slug}/deliveries/{delivery_id}",
                       "/admin/lms/{slug}/webhooks/{webhook_id}/deliveries/{delivery_id}"],
    ConfigurationsResource: ["/admin/configurations/"],
    ConfigurationResource: ["/admin/configurations/{configuration_id}"],
    RegistrationsResource: ["/admin/registrations/"],
    RegistrationResource: ["/admin/registrations/{registration_id}"],
    ExamsResource: ["/admin/exams/"],
    ExamResource: ["/admin/exams/{exam_id}"],
    AttemptsResource: ["/admin/attempts/"],
    AttemptResource: ["/admin/attempts/{attempt_code}"],
    ReviewsResource: ["/admin/reviews/"],
    ReviewResource: ["/admin/reviews/{review_id}"],
    BackendsResource: ["/admin/backends/"],
}
# Views under /admin that answer a browser whatever it accepts: forms and redirects, never JSON.
BROWSER_ONLY = {"proctorhub.admin.signin.signin_page", "proctorhub.admin.signin.signin",
                "proctorhub.admin.signin.signout"}


def _methods(view) -> list[str]:
    methods = view["request_methods"]
    assert methods, f"{view['callable']} answers every method: name them"
    return [methods] if isinstance(methods, str) else list(methods)


def admin_json_views(registry) -> set[tuple[str, str]]:
    """(METHOD, path template) of every view under /admin that may answer JSON."""
    routes = {route.name: route.pattern for route in registry.getUtility(IRoutesMapper).get_routes()}
    found = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        if not routes.get(view["route_name"], "").startswith("/admin") or view["exception_only"]:
            continue
        if view["accept"] == "text/html":
            continue
        name = f"{view['callable'].__module__}.{view['callable'].__name__}"
        if view["route_name"] != "admin":
            assert name in BROWSER_ONLY, f"{name} (route {view['route_name']}) may answer JSON: document it"
            continue
        assert view["context"] in TREE, f"{view['context']} is a new resource of the admin: add it to TREE"
        for template in TREE[view["context"]]:
            path = template.rstrip("/") + "/" + view["name"] if view["name"] else template
            found.update((method, path) for method in _methods(view))
    return found


def documented_admin_operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), template) for template, item in document["paths"].items()
            if template.startswith("/admin") for method in item if method != "parameters"}


def test_every_admin_json_view_is_documented_and_nothing_else(app, document):
    views = admin_json_views(app.registry)
    operations = documented_admin_operations(document.document)
    assert ("POST", "/admin/reviews/bulk") in views and ("PATCH", "/admin/lms/{slug}/webhooks/{webhook_id}") in views
    assert not views - operations, f"JSON views missing from the document: {sorted(views - operations)}"
    assert not operations - views, f"documented, but no view answers: {sorted(operations - views)}"


def test_an_undocumented_admin_view_is_noticed(app, document):
    """The check above can fail: a document without one operation, or with one too many, is caught."""
    paths = copy.deepcopy(document.document["paths"])
    del paths["/admin/reviews/{review_id}/claim"]["post"]
    paths["/admin/reviews/{review_id}"]["delete"] = paths["/admin/reviews/{review_id}"]["get"]
    operations = documented_admin_operations({"paths": paths})
    views = admin_json_views(app.registry)
    assert views - operations == {("POST", "/admin/reviews/{review_id}/claim")}
    assert operations - views == {("DELETE", "/admin/reviews/{review_id}")}
