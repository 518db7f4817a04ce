"""The OpenAPI 3.1 description of proctorhub's HTTP API, built once at start-up.

It describes what DESIGN.md 5.1, 5.2, 5.3 (token and ACS), 5.4 (the admin's JSON, in ``admin.py``)
and 5.6 promise. Objects in answers allow more properties than they list: a client may rely on the
listed ones. Tests check real answers against it (tests/functional/ops/test_openapi.py).
"""

from __future__ import annotations

from ..models.configuration import ACS_ACTIONS
from . import admin
from .shapes import DATETIME, INT, SCHEMAS, STRING, answer, errors, json_content, nullable, ref

LMS_API_SCHEMAS = {
    "OAuthError": {
        "type": "object", "required": ["error"],
        "properties": {"error": STRING, "error_description": STRING},
    },
    "Named": {"type": "object", "required": ["id"], "properties": {"id": STRING, "title": STRING}},
    "User": {"type": "object", "required": ["id"],
             "properties": {"id": STRING, "name": STRING, "email": STRING, "role": STRING}},
    "AttemptRequest": {
        "type": "object", "required": ["user", "resource_link", "attempt_number"],
        "properties": {
            "config_id": INT, "backend": STRING, "user": ref("User"), "resource_link": ref("Named"),
            "context": ref("Named"), "attempt_number": {"type": "integer", "minimum": 1}, "external_id": STRING,
            "exam": {"type": "object", "required": ["name"],
                     "properties": {"name": STRING, "time_limit_mins": INT, "is_practice": {"type": "boolean"}}},
        },
    },
    "LaunchRequest": {
        "type": "object",
        "required": ["config_id", "message_type", "user", "resource_link", "attempt_number", "return_url"],
        "properties": {
            "config_id": INT, "message_type": {"enum": ["LtiStartProctoring", "LtiEndAssessment"]},
            "user": ref("User"), "resource_link": ref("Named"), "context": ref("Named"),
            "attempt_number": {"type": "integer", "minimum": 1}, "return_url": {"type": "string", "format": "uri"},
            "external_id": STRING,
        },
    },
    "Launch": {
        "type": "object", "required": ["launch_url", "expires_at", "attempt"],
        "properties": {"launch_url": {"type": "string", "format": "uri"}, "expires_at": DATETIME,
                       "attempt": ref("Attempt")},
    },
    "StoredReview": {
        "allOf": [ref("Review")],
        "type": "object", "required": ["attempt_code", "status"],
    },
    "AccessToken": {
        "type": "object", "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {"access_token": STRING, "token_type": {"const": "Bearer"}, "expires_in": INT, "scope": STRING},
    },
    "AcsRequest": {
        "type": "object", "required": ["user", "resource_link", "attempt_number", "action"],
        "properties": {
            "user": {"type": "object", "required": ["sub"], "properties": {"sub": STRING, "iss": STRING}},
            "resource_link": ref("Named"), "attempt_number": INT,
            "action": {"enum": list(ACS_ACTIONS)},
            "incident_time": STRING, "incident_severity": {"anyOf": [{"type": "number"}, STRING]},
            "extra_time": INT, "reason_code": STRING, "reason_msg": STRING,
        },
    },
    "AcsStatus": {
        "type": "object", "required": ["status"],
        "properties": {"status": {"enum": ["none", "running", "paused", "terminated", "complete"]},
                       "extra_time": nullable(INT)},
    },
}

BEARER = [{"bearer": []}]
ATTEMPT_CODE = {"name": "attempt_code", "in": "path", "required": True, "schema": STRING}


def lms_api() -> dict:
    return {
        "/api/v1/attempts": {"post": {
            "operationId": "createAttempt", "tags": ["LMS API"], "security": BEARER,
            "summary": "Find or create an attempt (and its exam)",
            "requestBody": {"required": True, **json_content(ref("AttemptRequest"))},
            "responses": {"201": answer("Created", ref("Attempt")), "200": answer("It existed", ref("Attempt")),
                          **errors(400, 401, 403, 404, 409, 412, 413, 415, 503)},
        }},
        "/api/v1/attempts/{attempt_code}": {
            "parameters": [ATTEMPT_CODE],
            "get": {"operationId": "getAttempt", "tags": ["LMS API"], "security": BEARER,
                    "responses": {"200": answer("The attempt", ref("Attempt")), **errors(400, 401, 403, 404, 503)}},
            "delete": {"operationId": "archiveAttempt", "tags": ["LMS API"], "security": BEARER,
                       "summary": "Archive (never erase) the attempt",
                       "responses": {"200": answer("Archived", ref("Attempt")),
                                     **errors(400, 401, 403, 404, 409, 503)}},
        },
        "/api/v1/attempts/{attempt_code}/submit": {
            "parameters": [ATTEMPT_CODE],
            "post": {"operationId": "submitAttempt", "tags": ["LMS API"], "security": BEARER,
                     "responses": {"200": answer("Submitted", {
                         "type": "object", "required": ["end_assessment_return", "attempt"],
                         "properties": {"end_assessment_return": {"type": "boolean"}, "attempt": ref("Attempt")}}),
                         **errors(400, 401, 403, 404, 409, 503)}},
        },
        "/api/v1/launches": {"post": {
            "operationId": "createLaunch", "tags": ["LMS API"], "security": BEARER,
            "requestBody": {"required": True, **json_content(ref("LaunchRequest"))},
            "responses": {"201": answer("A single-use launch URL", ref("Launch")),
                          **errors(400, 401, 403, 404, 409, 412, 413, 415, 503)},
        }},
        "/api/v1/end-assessment-return": {"get": {
            "operationId": "getEndAssessmentReturn", "tags": ["LMS API"], "security": BEARER,
            "parameters": [{"name": name, "in": "query", "required": required, "schema": STRING}
                           for name, required in (("user_id", True), ("resource_link_id", True),
                                                  ("context_id", False))],
            "responses": {"200": answer("For the user's latest attempt", {
                "type": "object", "required": ["end_assessment_return"],
                "properties": {"end_assessment_return": {"type": "boolean"}}}), **errors(400, 401, 403, 503)},
        }},
    }


def callbacks_and_lti() -> dict:
    return {
        "/api/v1/reviews/{backend}": {"post": {
            "operationId": "postReview", "tags": ["Vendor callbacks"],
            "summary": "A vendor's review, in the vendor's own format, signed (X-Proctorhub-Signature)",
            "parameters": [{"name": "backend", "in": "path", "required": True, "schema": STRING},
                           {"name": "X-Proctorhub-Signature", "in": "header", "required": False,
                            "schema": STRING, "description": "t=<unix seconds>,v1=<hex HMAC-SHA256>"}],
            "requestBody": {"required": True, **json_content({"type": "object"})},
            "responses": {"200": answer("The stored review", ref("StoredReview")),
                          **errors(400, 401, 404, 409, 412, 413, 415, 503)},
        }},
        "/lti/token": {"post": {
            "operationId": "issueAccessToken", "tags": ["LTI"],
            "summary": "OAuth 2 client credentials with a JWT-bearer client assertion (ACS scope)",
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["grant_type", "client_assertion_type", "client_assertion", "scope"],
                "properties": {"grant_type": STRING, "client_assertion_type": STRING, "client_assertion": STRING,
                               "scope": STRING}}}}},
            # DESIGN.md asks for RFC 6749 5.2 errors; today's answers use the one error shape with the
            # OAuth code as its code. Both are described until the endpoint settles on one.
            "responses": {"200": answer("An access token", ref("AccessToken")),
                          "400": answer("Refused (OAuth error code)", {"anyOf": [ref("OAuthError"), ref("Error")]}),
                          "401": answer("invalid_client", {"anyOf": [ref("OAuthError"), ref("Error")]}),
                          **errors(413, 415, 503)},
        }},
        "/lti/acs": {"post": {
            "operationId": "assessmentControl", "tags": ["LTI"], "security": BEARER,
            "requestBody": {"required": True, "content": {
                "application/vnd.ims.lti-ap.v1.control+json": {"schema": ref("AcsRequest")},
                "application/json": {"schema": ref("AcsRequest")}}},
            "responses": {"200": {"description": "The attempt's status", "content": {
                "application/vnd.ims.lti-ap.v1.control+json": {"schema": ref("AcsStatus")},
                "application/json": {"schema": ref("AcsStatus")}}},
                **errors(400, 401, 403, 404, 406, 409, 413, 415, 503)},
        }},
    }


def operations() -> dict:
    return {
        "/healthz": {"get": {"operationId": "healthz", "tags": ["Operations"],
                             "responses": {"200": answer("The process answers", {
                                 "type": "object", "required": ["status"],
                                 "properties": {"status": {"const": "ok"}}})}}},
        "/readyz": {"get": {"operationId": "readyz", "tags": ["Operations"],
                            "responses": {"200": answer("The database answers at the newest schema", {
                                "type": "object", "required": ["status", "schema"],
                                "properties": {"status": {"const": "ready"}, "schema": STRING}}),
                                **errors(503)}}},
        "/metrics": {"get": {"operationId": "metrics", "tags": ["Operations"],
                             "description": "With proctorhub.metrics_token set, only for its bearer token.",
                             "responses": {"200": {"description": "Prometheus text format",
                                                   "content": {"text/plain": {"schema": STRING}}},
                                           **errors(401)}}},
        "/api/v1/openapi.json": {"get": {"operationId": "openapi", "tags": ["Operations"],
                                         "responses": {"200": answer("This document", {"type": "object"})}}},
    }


def openapi_document(issuer: str, version: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "proctorhub", "version": version,
                 "description": "A proctoring hub between learning platforms and online-proctoring vendors. "
                                "Every error has one shape: {\"error\": {\"status\", \"code\", \"message\", "
                                "\"details\"}}; 503 answers carry Retry-After."},
        "servers": [{"url": issuer}],
        "paths": {**lms_api(), **callbacks_and_lti(), **operations(), **admin.paths()},
        "components": {
            "schemas": {**SCHEMAS, **LMS_API_SCHEMAS, **admin.SCHEMAS},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API token (proctorhub token create): the lms role for the LMS API, "
                                          "admin or reviewer for /admin; for /lti/acs an access token from "
                                          "/lti/token"},
                **admin.SECURITY_SCHEMES,
            },
        },
    }
