"""What every launch carries (DESIGN.md 5.3): launch_presentation, tool_platform, the
configuration's custom parameters substituted, given and family names when the LMS sent them,
and errormsg/errorlog in an LtiEndAssessment for an attempt that ended in error."""

from __future__ import annotations

from sqlalchemy import select

from proctorhub import __version__
from proctorhub.models import Attempt

from .conftest import AP

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def test_every_launch_carries_presentation_platform_and_custom(flow, dbsession):
    flow.config.custom = {"attempt_code": "$Attempt.code", "learner": "$User.id", "link": "$ResourceLink.id",
                          "course": "$Context.id", "plain": "kept as it is", "unknown": "$Not.a.variable"}
    dbsession.add(flow.config)
    dbsession.commit()
    claims = flow.start_proctoring(user={"id": "learner-1", "role": "student", "name": "Ada Lovelace",
                                         "given_name": "Ada", "family_name": "Lovelace"})
    code = dbsession.execute(select(Attempt.attempt_code)).scalar_one()
    assert claims[LTI + "launch_presentation"] == {"return_url": "https://lms.test/courses/1/return",
                                                   "document_target": "window"}
    platform = claims[LTI + "tool_platform"]
    assert platform["product_family_code"] == "proctorhub" and platform["version"] == __version__
    assert platform["guid"] and platform["name"]
    assert claims[LTI + "custom"] == {"attempt_code": code, "learner": "learner-1", "link": "exam-1",
                                      "course": "course-1", "plain": "kept as it is", "unknown": "$Not.a.variable"}
    assert (claims["given_name"], claims["family_name"], claims["name"]) == ("Ada", "Lovelace", "Ada Lovelace")


def test_no_names_are_made_up(flow):
    claims = flow.start_proctoring()
    assert "given_name" not in claims and "family_name" not in claims
    assert LTI + "custom" not in claims  # the configuration has none


def test_end_assessment_after_an_error_carries_errormsg_and_errorlog(flow, dbsession):
    flow.start(flow.signed(flow.start_proctoring(), end_assessment_return=True))
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    attempt.status = "error"
    dbsession.commit()
    entry = flow.enter(flow.create_launch(message_type="LtiEndAssessment"))
    _token, claims = flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))
    assert claims[LTI + "message_type"] == "LtiEndAssessment"
    assert claims[AP + "errormsg"] and attempt.attempt_code in claims[AP + "errorlog"]
    assert claims[LTI + "launch_presentation"]["return_url"] == "https://lms.test/courses/1/return"


def test_end_assessment_without_an_error_has_none(flow, dbsession):
    flow.start(flow.signed(flow.start_proctoring(), end_assessment_return=True))
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    attempt.status = "verified"
    dbsession.commit()
    entry = flow.enter(flow.create_launch(message_type="LtiEndAssessment"))
    _token, claims = flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))
    assert AP + "errormsg" not in claims and AP + "errorlog" not in claims


def test_the_discovery_document_names_the_platform_version(testapp):
    document = testapp.get("/.well-known/openid-configuration").json
    block = document["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert block["version"] == __version__ and block["product_family_code"] == "proctorhub"


def test_authorization_errors_are_form_posted_with_state(flow):
    entered = flow.enter(flow.create_launch()).location
    page = flow.authorize(flow.tool.authentication_request(entered, state="s-1", prompt="login"), status=400)
    action, fields = flow.tool.form_fields(page.text)
    assert action == "https://tool.test/launch"
    assert fields == {"error": "invalid_request", "error_description": "prompt must be none", "state": "s-1"}
