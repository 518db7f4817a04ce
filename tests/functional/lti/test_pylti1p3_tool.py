"""End to end with pylti1p3, an independently written LTI library, playing the proctoring tool."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from proctorhub.models import Attempt

from ... import factories as f
from ...lti_tool import path_of
from .conftest import ISSUER
from .pylti_tool import PyltiTool

AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _pylti_launch(flow, tool, launch) -> dict:
    """Browser entry → pylti1p3's OIDC login → our authorize → pylti1p3 validates the id_token."""
    entry = flow.enter(launch)
    auth_url = tool.login(_query(entry.location), "https://tool.test/launch")
    assert auth_url.startswith(f"{ISSUER}/lti/authorize?")
    page = flow.app.get(path_of(auth_url), status=200)
    action, fields = flow.tool.form_fields(page.text)
    assert action == "https://tool.test/launch"
    return tool.launch(fields)


def test_pylti1p3_tool_runs_the_whole_proctoring_flow(flow, testapp, dbsession):
    tool = PyltiTool(testapp, issuer=ISSUER, client_id=flow.config.client_id, deployment_id="deployment-1")

    claims = _pylti_launch(flow, tool, flow.create_launch())
    assert tool.requests.fetched == [f"{ISSUER}/lti/jwks"]  # verified against our published keys
    assert claims[LTI + "message_type"] == "LtiStartProctoring"
    assert claims["aud"] == flow.config.client_id and claims["azp"] == flow.config.client_id
    assert claims["sub"] == "learner-1" and claims[AP + "attempt_number"] == 1
    assert claims[LTI + "resource_link"]["id"] == "exam-1"
    assert claims[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]  # "student"
    assert claims[AP + "acs"]["actions"] == ["pause", "resume", "terminate", "update", "flag"]
    dbsession.expire_all()
    assert dbsession.execute(select(Attempt.status)).scalar_one() == "ready_to_start"

    # The tool signs LtiStartAssessment with its own key and posts it from the browser.
    signed = flow.tool.start_assessment(claims, platform_issuer=ISSUER, end_assessment_return=True)
    done = flow.app.post(path_of(claims[AP + "start_assessment_url"]), {"JWT": signed}, status=302)
    assert done.location == "https://lms.test/courses/1/return"
    dbsession.expire_all()
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    assert attempt.status == "started" and attempt.end_assessment_return is True

    # The learner finishes; the tool asked for LtiEndAssessment, so the LMS launches it.
    submitted = testapp.post(f"/api/v1/attempts/{attempt.attempt_code}/submit", headers=f.auth(flow.lms)).json
    assert submitted["end_assessment_return"] is True
    end_claims = _pylti_launch(flow, tool, flow.create_launch(message_type="LtiEndAssessment"))
    assert end_claims[LTI + "message_type"] == "LtiEndAssessment"
    assert end_claims[AP + "attempt_number"] == 1
