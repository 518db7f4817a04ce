"""The admin's JSON (DESIGN.md 5.4 and 5.5): the part of the OpenAPI document under ``/admin``.

Every resource of the admin's tree answers JSON to a program (``Accept: application/json``, or
no ``Accept`` at all) and HTML to a browser; only the JSON is described here. A program signs in
with an admin or reviewer API token, or rides on a staff session (the cookie ``/admin/sign-in``
sets), and then sends the session's CSRF token with every unsafe request. Collections end in
``/``; items do not. Limits and choices come from the code that enforces them.
"""

from __future__ import annotations

from ..admin.listing import DEFAULT_LIMIT, MAX_LIMIT
from ..admin.queue import BUCKETS, COUNT_CAP, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SORTS
from ..admin.reviews import MAX_BULK
from ..admin.second_review import OUTCOME_ALIASES
from ..models import AttemptStatus, ConfigurationStatus, EventKind, ReviewStatus
from ..models.configuration import ACS_ACTIONS
from ..models.lms import SLUG_MAX, SLUG_PATTERN
from ..models.webhook import DeliveryStatus
from ..security.session import COOKIE_NAME
from .shapes import (
    BOOL,
    DATETIME,
    INT,
    INT_MAX,
    NUMBER,
    REVIEW_FIELDS,
    ROW_ID,
    STRING,
    URI,
    answer,
    array,
    attempt_shape,
    errors,
    json_body,
    nullable,
    obj,
    ref,
)

CSRF_HEADER = "X-CSRF-Token"
SECURITY_SCHEMES = {
    "staffSession": {
        "type": "apiKey", "in": "cookie", "name": COOKIE_NAME,
        "description": "A staff member's signed session cookie, set by the sign-in form (POST /admin/sign-in, "
                       "form fields email and password). It ends at sign-out, after eight idle hours, and "
                       "at the absolute session lifetime.",
    },
    "csrfToken": {
        "type": "apiKey", "in": "header", "name": CSRF_HEADER,
        "description": "The session's CSRF token (the csrf_token field of any admin page's forms). Every "
                       "unsafe request authenticated by the session cookie must carry it (or the form field "
                       "csrf_token); a request with an Authorization header needs none.",
    },
}
READ = [{"bearer": []}, {"staffSession": []}]
WRITE = [{"bearer": []}, {"staffSession": [], "csrfToken": []}]

DESCRIBED = {
    400: "invalid_payload (details.fields names each bad field) or another stable code: invalid_value, "
         "unknown_event_type, invalid_url, url_not_https, url_has_credentials, url_has_fragment, "
         "private_address",
    401: "unauthenticated: no staff session and no bearer token (a browser asking for HTML is sent to "
         "/admin/sign-in instead)",
    403: "forbidden (the caller's role may not do this, or a reviewer names a course not theirs); "
         "bad_csrf_token: an unsafe request on the session cookie without the session's CSRF token",
    404: "not_found, also for an item of a course the caller may not see (no existence oracle); "
         "unknown_lms, unknown_webhook, unknown_delivery, unknown_configuration",
    406: "not_acceptable: the Accept header allows none of the media types this URL answers the method "
         "in (details.offered)",
    409: "review_conflict (someone else holds or changed the review: details say what), lms_exists, "
         "configuration_name_taken, configuration_rejected, nothing_to_approve, concurrent_update, "
         "delivery_in_flight (a worker is sending the delivery right now: replay it once that try is recorded)",
}
LIST_ERRORS = errors(400, 401, 403, 406, 503, described=DESCRIBED)
TENANT_LIST_ERRORS = errors(400, 401, 403, 404, 406, 503, described=DESCRIBED)
ITEM_ERRORS = errors(400, 401, 403, 404, 406, 503, described=DESCRIBED)
# Writes that read a JSON body, and those that read none (approve, rotate-secret, replay, ...).
BODY_ERRORS = errors(400, 401, 403, 404, 406, 409, 413, 415, 503, described=DESCRIBED)
ACTION_ERRORS = errors(400, 401, 403, 404, 406, 409, 413, 503, described=DESCRIBED)


def text(max_length: int, min_length: int = 0) -> dict:
    return {"type": "string", "maxLength": max_length, **({"minLength": min_length} if min_length else {})}


def listing(key: str, item: dict, **more) -> dict:
    return obj({key: array(item), **more}, required=(key, *more))


PAGE_LINKS = {"next": nullable(URI), "previous": nullable(URI)}
EVENT_TYPES = {"enum": ["*", *(kind.value for kind in EventKind)]}
REVIEW_DECISIONS = {"enum": [s.value for s in ReviewStatus] + list(OUTCOME_ALIASES)}

CONFIGURATION_INPUT = {
    "name": text(200, 1),
    "deployment_id": text(255, 1),
    "oidc_login_url": {**URI, "maxLength": 2048},
    "launch_url": {**URI, "maxLength": 2048},
    "redirect_uris": array({**URI, "maxLength": 2048}, minItems=1, maxItems=20),
    "jwks_url": nullable({**URI, "maxLength": 2048}),
    "public_key_pem": nullable({**text(20000), "description": "-----BEGIN PUBLIC KEY-----..."}),
    "proctoring_enabled": BOOL,
    "acs_actions": array({"enum": list(ACS_ACTIONS)}),
    "backend": nullable({**STRING, "description": "an enabled backend's name"}),
    "acs_review": BOOL,
    "acs_severity_threshold": {"type": "number", "minimum": 0, "maximum": 1},
    "acs_submitted_reason_codes": array(text(255, 1)),
    "custom": {"type": "object", "maxProperties": 50, "propertyNames": {"pattern": r"^[A-Za-z0-9_.\-]{1,64}$"},
               "additionalProperties": text(1000)},
}
EXAM_INPUT = {"name": text(255, 1), "time_limit_mins": nullable({"type": "integer", "minimum": 1, "maximum": INT_MAX}),
              "is_proctored": BOOL, "is_practice": BOOL, "backend": nullable(STRING)}

SCHEMAS = {
    "AdminIndex": obj({"links": {"type": "object", "additionalProperties": URI}}, required=("links",)),
    "AuditEntry": obj({"id": INT, "actor": STRING, "action": STRING, "changes": {"type": "object"},
                       "created_at": DATETIME}, required=("id", "actor", "action", "changes", "created_at")),
    # -- lmss, their tokens, webhook receivers and deliveries
    "Lms": obj({"slug": STRING, "name": STRING, "created_at": DATETIME, "url": URI},
               required=("slug", "name", "created_at", "url")),
    "LmsRequest": obj({"name": text(200, 1), "slug": nullable(text(SLUG_MAX))}, required=("name",), closed=True),
    "LmsDetail": {"allOf": [ref("Lms"), obj({
        "tokens": array(obj({"id": INT, "name": STRING, "role": STRING, "created_at": DATETIME,
                             "revoked_at": nullable(DATETIME)}, required=("id", "name", "role", "revoked_at"))),
        "webhooks": array(obj({"id": INT, "url": STRING, "events": array(STRING), "enabled": BOOL,
                               "disabled_reason": nullable(STRING)}, required=("id", "url", "events", "enabled"))),
        "links": obj({"webhooks": URI, "deliveries": URI}, required=("webhooks", "deliveries")),
    }, required=("tokens", "webhooks", "links"))]},
    "Webhook": obj({
        "id": INT, "lms": STRING, "url": STRING, "events": array(STRING), "description": STRING, "enabled": BOOL,
        "disabled_reason": nullable(STRING), "failing_since": nullable(DATETIME),
        "previous_secret_expires_at": nullable(DATETIME), "created_at": DATETIME, "modified_at": DATETIME,
    }, required=("id", "lms", "url", "events", "enabled", "disabled_reason", "previous_secret_expires_at")),
    "WebhookWithSecret": {"allOf": [ref("Webhook"), obj(
        {"secret": {"type": "string", "pattern": "^whsec_", "description": "shown this once"}},
        required=("secret",))]},
    "WebhookCreate": obj({"url": STRING, "events": array(EVENT_TYPES), "description": text(500)},
                         required=("url",), closed=True),
    "WebhookUpdate": obj({"url": STRING, "events": array(EVENT_TYPES), "description": text(500), "enabled": BOOL},
                         closed=True),
    "Delivery": obj({
        "id": INT, "webhook": INT, "event_id": INT, "type": STRING, "webhook_id": STRING,
        "status": {"enum": [s.value for s in DeliveryStatus]}, "tries": INT, "next_try_at": nullable(DATETIME),
        "in_flight": {**BOOL, "description": "a worker is sending it right now: a replay is 409 delivery_in_flight"},
        "leased_until": {**nullable(DATETIME), "description": "while in_flight, when the sending worker's lease "
                         "ends (the try is recorded before; a worker that died leaves it due again then)"},
        "last_status": nullable(INT), "last_error": nullable(STRING), "created_at": DATETIME,
        "delivered_at": nullable(DATETIME),
        "attempts": array(obj({"started_at": DATETIME, "duration_ms": INT, "response_status": nullable(INT),
                               "response_body": nullable(STRING), "error": nullable(STRING)},
                              required=("started_at", "response_status", "error"))),
    }, required=("id", "webhook", "type", "webhook_id", "status", "tries", "next_try_at", "in_flight", "leased_until",
                 "attempts")),
    # -- tool configurations and LTI Dynamic Registration
    "ToolSetup": obj({name: STRING for name in (
        "issuer", "client_id", "deployment_id", "authorization_endpoint", "token_endpoint", "jwks_url",
        "openid_configuration", "start_assessment_url", "assessment_control_url")},
        required=("issuer", "client_id", "deployment_id", "authorization_endpoint", "token_endpoint", "jwks_url")),
    "Configuration": obj({
        "id": INT, "name": STRING, "client_id": STRING, "deployment_id": STRING,
        "oidc_login_url": nullable(STRING), "launch_url": nullable(STRING), "end_assessment_url": nullable(STRING),
        "redirect_uris": array(STRING), "jwks_url": nullable(STRING), "public_key_pem": nullable(STRING),
        "proctoring_enabled": BOOL, "acs_actions": array(STRING), "backend": nullable(STRING), "acs_review": BOOL,
        "acs_severity_threshold": NUMBER, "acs_submitted_reason_codes": array(STRING),
        "custom": {"type": "object", "additionalProperties": STRING},
        "status": {"enum": [s.value for s in ConfigurationStatus]},
        # What the tool asked for when it registered itself, and a later registration waiting for approval.
        "registration": nullable({"type": "object"}), "pending_update": nullable({"type": "object"}),
        "created_at": DATETIME, "modified_at": DATETIME,
    }, required=("id", "name", "client_id", "deployment_id", "redirect_uris", "jwks_url", "public_key_pem",
                 "proctoring_enabled", "acs_actions", "backend", "status", "pending_update")),
    "ConfigurationWithSetup": {"allOf": [ref("Configuration"), obj({"tool_setup": ref("ToolSetup")},
                                                                   required=("tool_setup",))]},
    "ConfigurationCreate": obj(CONFIGURATION_INPUT, required=("name", "oidc_login_url", "launch_url",
                                                              "redirect_uris"), closed=True),
    "ConfigurationUpdate": obj(CONFIGURATION_INPUT, closed=True),
    "Registration": obj({
        "id": INT, "kind": {"enum": ["create", "update"]}, "status": {"enum": ["waiting", "completed", "expired"]},
        "initiation_url": STRING, "configuration_id": nullable(INT), "configuration_url": nullable(URI),
        "backend": nullable(STRING), "started_by": STRING, "created_at": DATETIME, "expires_at": DATETIME,
        "used_at": nullable(DATETIME),
    }, required=("id", "kind", "status", "initiation_url", "configuration_id", "expires_at", "used_at")),
    "RegistrationRequest": obj({"initiation_url": {**URI, "maxLength": 2048}, "configuration_id": ROW_ID,
                                "backend": nullable(STRING)}, required=("initiation_url",), closed=True),
    # -- exams and attempts
    "Exam": obj({
        "id": INT, "name": STRING, "lms": STRING, "context_id": STRING, "context_title": nullable(STRING),
        "resource_link_id": STRING, "resource_link_title": nullable(STRING), "time_limit_mins": nullable(INT),
        "is_proctored": BOOL, "is_practice": BOOL, "configuration_id": nullable(INT), "backend": nullable(STRING),
        "created_at": DATETIME, "modified_at": DATETIME,
    }, required=("id", "name", "lms", "context_id", "resource_link_id", "time_limit_mins", "is_proctored",
                 "is_practice", "configuration_id", "backend")),
    "ExamUpdate": obj(EXAM_INPUT, closed=True),
    # A list row names its review; the attempt's own answer carries the whole of it.
    "AttemptRow": attempt_shape(nullable(obj({"id": INT, "status": STRING, "modified_at": DATETIME},
                                             required=("id", "status")))),
    "AdminAttempt": {"allOf": [ref("Attempt"), obj({
        "acs_controls": array(obj({
            "action": STRING, "incident_time": nullable(STRING), "incident_severity": nullable(NUMBER),
            "extra_time": nullable(INT), "reason_code": nullable(STRING), "reason_msg": nullable(STRING),
            "status_before": STRING, "status_after": STRING, "created_at": DATETIME,
        }, required=("action", "status_before", "status_after", "created_at"))),
        "status_history": array(obj({"from": nullable(STRING), "to": nullable(STRING), "reason": nullable(STRING),
                                     "at": DATETIME}, required=("from", "to", "at"))),
    }, required=("acs_controls", "status_history"))]},
    # -- reviews: the queue, one review, decisions and claims
    "ReviewRow": obj({
        **REVIEW_FIELDS, "lms": STRING, "context_id": STRING, "exam_id": INT, "exam_name": STRING,
        "queue_priority": INT, "attempt_status": {"enum": [s.value for s in AttemptStatus]}, "user_id": STRING,
        "user_name": nullable(STRING),
    }, required=("id", "attempt_code", "status", "vendor_status", "reviewed_by", "lms", "context_id", "exam_id",
                 "queue_priority", "attempt_status", "user_id")),
    "ReviewQueue": listing("reviews", ref("ReviewRow"), **{
        "total": {**nullable(INT), "description": f"rows matched, counted up to total_cap ({COUNT_CAP})"},
        "total_cap": INT,
        "counts": obj({bucket: INT for bucket in BUCKETS}, required=tuple(BUCKETS)),
        "next_cursor": nullable(STRING), "previous_cursor": nullable(STRING), **PAGE_LINKS,
    }),
    "ReviewDetail": {"allOf": [ref("Review"), obj({
        "context_id": STRING, "exam_id": INT, "note": nullable(STRING), "vendor_reviewed_by": nullable(STRING),
        "queue_priority": INT, "attempt": ref("Attempt"),
        "history": array(obj({
            "id": INT, "status": STRING, "vendor_status": nullable(STRING), "reviewed_by": nullable(STRING),
            "note": nullable(STRING), "comments": array(ref("Comment")), "replaced_by": STRING,
            "valid_from": nullable(DATETIME), "replaced_at": DATETIME,
        }, required=("id", "status", "reviewed_by", "comments", "replaced_by", "replaced_at"))),
        "audit": array(ref("AuditEntry")),
        "version": {**INT, "description": "what a decision sends back as seen"},
        "decided_at": nullable(DATETIME), "claimed_by": nullable(STRING), "claimed_at": nullable(DATETIME),
        "raw_payload": {"type": "object", "description": "the vendor's redacted payload, only with ?raw=1"},
    }, required=("id", "attempt_code", "attempt", "history", "audit", "version", "claimed_by", "claimed_at"))]},
    "SecondReview": obj({
        "status": {**REVIEW_DECISIONS, "description": "a review status, or the outcome wanted (verified, rejected)"},
        "note": text(5000), "seen": {"type": "integer", "minimum": 0, "maximum": 10**6}, "confirm": BOOL,
    }, required=("status",), closed=True),
    "BulkDecision": obj({"ids": array(ROW_ID, minItems=1, maxItems=MAX_BULK), "status": REVIEW_DECISIONS,
                         "note": text(5000), "confirm": BOOL}, required=("ids", "status"), closed=True),
    "Claim": obj({"id": INT, "claimed_by": nullable(STRING), "claimed_at": nullable(DATETIME)},
                 required=("id", "claimed_by", "claimed_at")),
    "Backend": obj({"name": STRING, "verbose_name": STRING, "enabled": BOOL, "passing_statuses": array(STRING),
                    "redacted_fields": array(STRING), "signed": BOOL, "allow_unsigned": BOOL},
                   required=("name", "verbose_name", "enabled")),
}


def path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def query(name: str, schema: dict, description: str | None = None) -> dict:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    return {**param, "description": description} if description else param


SLUG = path_param("slug", {"type": "string", "pattern": f"^{SLUG_PATTERN.pattern}$"})
WEBHOOK_ID = path_param("webhook_id", ROW_ID)
DELIVERY_ID = path_param("delivery_id", ROW_ID)
CURSOR = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
PAGES = [query("after", CURSOR, "the next page: the id in the next link"),
         query("before", CURSOR, "the previous page: the id in the previous link"),
         query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})]
ID_PAGES = [query("course", text(255), "any part of the course (context) id, in any case"), *PAGES]
QUEUE_FILTERS = [
    query("status", {"enum": [s.value for s in ReviewStatus]}),
    query("course", text(255), "one course (context) id, exactly"),
    query("exam", ROW_ID),
    query("backend", text(64)),
    query("unreviewed", BOOL, "only reviews no staff member has decided"),
    query("bucket", {"enum": list(BUCKETS), "default": "all"}),
    query("q", text(255), "a learner's id, the start of their email or name, or an attempt code"),
    query("sort", {"enum": list(SORTS), "default": "priority"}),
    query("after", text(300), "the next page: next_cursor"),
    query("before", text(300), "the previous page: previous_cursor"),
    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
]


def get(operation_id: str, summary: str, schema: dict, failures: dict, **more) -> dict:
    return {"get": {"operationId": operation_id, "tags": ["Admin"], "summary": summary, "security": READ,
                    "responses": {"200": answer("OK", schema), **failures}, **more}}


def write(operation_id: str, summary: str, schema: dict, *, body: dict | None = None, body_required: bool = True,
          status: int = 200, methods=("post",)) -> dict:
    """One write, under each of ``methods`` (the views that take PUT, PATCH and POST alike)."""
    operation = {"tags": ["Admin"], "summary": summary, "security": WRITE,
                 "responses": {str(status): answer("Created" if status == 201 else "OK", schema),
                               **(BODY_ERRORS if body else ACTION_ERRORS)}}
    if body:
        operation["requestBody"] = json_body(body, required=body_required)
    return {method: {"operationId": operation_id if i == 0 else f"{operation_id}{method.title()}", **operation}
            for i, method in enumerate(methods)}


def lms_paths() -> dict:
    deliveries = "Deliveries newest first, each with its tries"
    paths = {
        "/admin/lms/": {
            **get("listLmss", "The lmss (tenants); admins only", listing("lms", ref("Lms")), LIST_ERRORS),
            **write("createLms", "Create an lms; its slug is made from the name when not given", ref("Lms"),
                    body=ref("LmsRequest"), status=201),
        },
        "/admin/lms/{slug}": {"parameters": [SLUG], **get(
            "getLms", "An lms, its API tokens (never the tokens themselves) and webhook receivers",
            ref("LmsDetail"), ITEM_ERRORS)},
        "/admin/lms/{slug}/webhooks/": {"parameters": [SLUG], **get(
            "listWebhooks", "The lms's webhook receivers", listing("webhooks", ref("Webhook")), TENANT_LIST_ERRORS),
            **write("createWebhook", "Register a receiver: 201 with its signing secret, shown this once",
                    ref("WebhookWithSecret"), body=ref("WebhookCreate"), status=201)},
        "/admin/lms/{slug}/webhooks/{webhook_id}": {"parameters": [SLUG, WEBHOOK_ID], **get(
            "getWebhook", "A receiver", ref("Webhook"), ITEM_ERRORS),
            **write("updateWebhook", "Change some of url, events, description, enabled", ref("Webhook"),
                    body=ref("WebhookUpdate"), methods=("patch", "put"))},
        "/admin/lms/{slug}/webhooks/{webhook_id}/rotate-secret": {"parameters": [SLUG, WEBHOOK_ID], **write(
            "rotateWebhookSecret", "A new secret, shown this once; the old one also signs until "
            "previous_secret_expires_at", ref("WebhookWithSecret"))},
    }
    # Deliveries: of the whole lms, and of one of its receivers.
    for prefix, params, name in (("/admin/lms/{slug}/deliveries", [SLUG], ""),
                                 ("/admin/lms/{slug}/webhooks/{webhook_id}/deliveries", [SLUG, WEBHOOK_ID],
                                  "Webhook")):
        paths[prefix + "/"] = {"parameters": params, **get(
            f"list{name}Deliveries", deliveries, listing("deliveries", ref("Delivery"), **PAGE_LINKS),
            TENANT_LIST_ERRORS, parameters=[query("status", {"enum": [s.value for s in DeliveryStatus]}), *PAGES])}
        paths[prefix + "/{delivery_id}"] = {"parameters": [*params, DELIVERY_ID], **get(
            f"get{name}Delivery", "A delivery and its tries", ref("Delivery"), ITEM_ERRORS)}
        paths[prefix + "/{delivery_id}/replay"] = {"parameters": [*params, DELIVERY_ID], **write(
            f"replay{name}Delivery", "Send it again (same webhook-id and body) at the worker's next round; "
            "409 delivery_in_flight while a worker is sending it", ref("Delivery"))}
    return paths


def configuration_paths() -> dict:
    config_id = path_param("configuration_id", ROW_ID)
    registration_id = path_param("registration_id", ROW_ID)
    decision = "{} what a tool filed through Dynamic Registration (409 nothing_to_approve if nothing waits)"
    return {
        "/admin/configurations/": {
            **get("listConfigurations", "LTI tool configurations; admins only",
                  listing("configurations", ref("Configuration")), LIST_ERRORS),
            **write("createConfiguration", "Register a tool: 201 with what its administrator must enter",
                    ref("ConfigurationWithSetup"), body=ref("ConfigurationCreate"), status=201),
        },
        "/admin/configurations/{configuration_id}": {"parameters": [config_id], **get(
            "getConfiguration", "A configuration and its audit trail", {"allOf": [
                ref("ConfigurationWithSetup"), obj({"audit": array(ref("AuditEntry"))}, required=("audit",))]},
            ITEM_ERRORS),
            **write("updateConfiguration", "Change some fields; the others keep their values, the client id "
                    "never changes", ref("ConfigurationWithSetup"), body=ref("ConfigurationUpdate"),
                    methods=("patch", "put", "post"))},
        "/admin/configurations/{configuration_id}/approve": {"parameters": [config_id], **write(
            "approveConfiguration", decision.format("Put in force"), ref("ConfigurationWithSetup"))},
        "/admin/configurations/{configuration_id}/reject": {"parameters": [config_id], **write(
            "rejectConfiguration", decision.format("Refuse"), ref("ConfigurationWithSetup"))},
        "/admin/registrations/": {
            **get("listRegistrations", "The newest LTI Dynamic Registrations started",
                  listing("registrations", ref("Registration")), LIST_ERRORS),
            **write("startRegistration", "Start a registration: the registration token inside redirect_url is "
                    "shown this once", {"allOf": [ref("Registration"), obj({"redirect_url": URI},
                                                                          required=("redirect_url",))]},
                    body=ref("RegistrationRequest"), status=201),
        },
        "/admin/registrations/{registration_id}": {"parameters": [registration_id], **get(
            "getRegistration", "A registration and what came of it", ref("Registration"), ITEM_ERRORS)},
    }


def exam_and_attempt_paths() -> dict:
    exam_id = path_param("exam_id", ROW_ID)
    code = path_param("attempt_code", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"})
    return {
        "/admin/exams/": get(
            "listExams", "Exams newest first; reviewers see their courses' only",
            listing("exams", ref("Exam"), **PAGE_LINKS), LIST_ERRORS,
            parameters=[*ID_PAGES, query("lms", text(SLUG_MAX), "one lms's exams (its slug)")]),
        "/admin/exams/{exam_id}": {"parameters": [exam_id], **get(
            "getExam", "An exam, its newest attempts and its audit trail", {"allOf": [ref("Exam"), obj(
                {"attempts": array(ref("Attempt")), "audit": array(ref("AuditEntry"))},
                required=("attempts", "audit"))]}, ITEM_ERRORS),
            **write("updateExam", "Change some of name, time_limit_mins, is_proctored, is_practice, backend; "
                    "admins only", ref("Exam"), body=ref("ExamUpdate"), methods=("patch", "put", "post"))},
        "/admin/attempts/": get(
            "listAdminAttempts", "Attempts newest first; reviewers see their courses' only",
            listing("attempts", ref("AttemptRow"), **PAGE_LINKS), LIST_ERRORS,
            parameters=[*ID_PAGES, query("status", {"enum": [s.value for s in AttemptStatus]}),
                        query("q", text(255), "a learner's id, the start of their email or name, or an attempt code")]),
        "/admin/attempts/{attempt_code}": {"parameters": [code], **get(
            "getAdminAttempt", "The attempt, its ACS actions and its status history (oldest first)",
            ref("AdminAttempt"), ITEM_ERRORS)},
    }


def review_paths() -> dict:
    review_id = path_param("review_id", ROW_ID)
    return {
        "/admin/reviews/": get(
            "reviewQueue", "The review queue: keyset pages both ways, counts per bucket; reviewers see their "
            "courses' only", ref("ReviewQueue"), LIST_ERRORS, parameters=QUEUE_FILTERS),
        "/admin/reviews/bulk": write(
            "decideReviews", "The same second review for each review, or for none (a missing, forbidden or "
            "claimed one refuses them all)", listing("reviews", ref("ReviewRow")), body=ref("BulkDecision")),
        "/admin/reviews/{review_id}": {"parameters": [review_id], **get(
            "getReview", "A review: comments, attempt, history, audit trail and, for staff who may see it, the "
            "vendor's video link", {"allOf": [ref("ReviewDetail"), obj({"video_link": nullable(STRING)},
                                                                       required=("video_link",))]},
            ITEM_ERRORS, parameters=[query("raw", {"enum": ["0", "1"]}, "1: add the redacted raw_payload")]),
            **write("decideReview", "A second review: records the caller as reviewer and settles the attempt; "
                    "409 review_conflict if someone else holds it or (with seen) it changed, unless confirm",
                    ref("ReviewDetail"), body=ref("SecondReview"), methods=("post", "put", "patch"))},
        "/admin/reviews/{review_id}/claim": {"parameters": [review_id], **write(
            "claimReview", "Take the review for a while (take_over: from someone else)", ref("Claim"),
            body=obj({"take_over": BOOL}, closed=True), body_required=False)},
        "/admin/reviews/{review_id}/release": {"parameters": [review_id], **write(
            "releaseReview", "Give up one's own claim", ref("Claim"))},
    }


def paths() -> dict:
    return {
        "/admin/": get("adminIndex", "Where the admin's collections are (those the caller may use)",
                       ref("AdminIndex"), errors(400, 401, 403, 406, 503, described=DESCRIBED)),
        **lms_paths(), **configuration_paths(), **exam_and_attempt_paths(), **review_paths(),
        "/admin/backends/": get("listBackends", "Installed vendor plugins, which are enabled, what they accept",
                                listing("backends", ref("Backend")), LIST_ERRORS),
    }
