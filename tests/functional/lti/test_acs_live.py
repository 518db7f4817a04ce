"""The ACS against a running server (waitress on the loopback): pylti1p3's own service connector
plays the tool and performs every action; a second client sends OAT's and edx-exams' exact
request formats, the string severity included."""

from __future__ import annotations

import json

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from pylti1p3.exception import LtiServiceException
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import select

from proctorhub.models import Attempt, AttemptControl

from ...live import serve
from .conftest import ISSUER

SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"
CONTROL = "application/vnd.ims.lti-ap.v1.control+json"


def _connector(flow, base: str) -> ServiceConnector:
    pem = flow.tool.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode("ascii")
    registration = (Registration().set_issuer(ISSUER).set_client_id(flow.config.client_id)
                    .set_auth_token_url(f"{base}/lti/token")
                    # The server is reached on the loopback; its token endpoint is named by the issuer.
                    .set_auth_audience(f"{ISSUER}/lti/token")
                    .set_tool_private_key(pem).set_tool_public_key(flow.tool.public_pem()))
    return ServiceConnector(registration)


def _body(action, **extra):
    return {"user": {"iss": ISSUER, "sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1,
            "action": action, **extra}


@pytest.fixture
def live(flow, app):
    flow.start(flow.signed(flow.start_proctoring()))
    with serve(app, threads=4) as base:
        yield base


def test_pylti1p3_service_connector_performs_every_action(flow, live, dbsession):
    connector = _connector(flow, live)

    def act(action, **extra):
        answer = connector.make_service_request([SCOPE], f"{live}/lti/acs", is_post=True,
                                                data=json.dumps(_body(action, **extra)), content_type=CONTROL,
                                                accept=CONTROL)
        assert answer["headers"]["Content-Type"].startswith(CONTROL)
        return answer["body"]

    assert act("pause", incident_time="2026-11-29T10:00:00Z") == {"status": "paused", "extra_time": 0}
    assert act("resume", incident_time="2026-11-29T10:03:00Z") == {"status": "running", "extra_time": 0}
    assert act("update", extra_time=20) == {"status": "running", "extra_time": 20}
    assert act("flag", incident_severity=0.4, reason_msg="a second voice") == {"status": "running", "extra_time": 20}
    with pytest.raises(LtiServiceException) as refused:
        act("resume")
    assert refused.value.response.status_code == 409
    assert act("terminate", reason_code="0") == {"status": "terminated", "extra_time": 20}
    dbsession.expire_all()
    assert dbsession.execute(select(Attempt.status)).scalar_one() == "terminated"
    actions = dbsession.execute(select(AttemptControl.action).order_by(AttemptControl.id)).scalars().all()
    assert actions == ["pause", "resume", "update", "flag", "terminate"]


def test_oat_and_edx_exams_request_formats(flow, live, dbsession):
    token = _connector(flow, live).get_access_token([SCOPE])
    http = requests.Session()
    # OAT lib-lti1p3-proctoring's AcsControl, every field, in the spec's media type.
    oat = {"user": {"iss": ISSUER, "sub": "learner-1"},
           "resource_link": {"id": "exam-1", "title": "Final exam", "description": "The final"},
           "attempt_number": 1, "action": "flag", "incident_time": "2026-11-29T10:45:33Z", "incident_severity": 0.1,
           "extra_time": 0, "reason_code": "12056",
           "reason_msg": "Excessive background noise outside candidate control"}
    answer = http.post(f"{live}/lti/acs", data=json.dumps(oat),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": CONTROL, "Accept": CONTROL})
    assert answer.status_code == 200 and answer.json() == {"status": "running", "extra_time": 0}
    # edx-exams' Proctorio terminate: plain JSON, the severity a string, no user.iss.
    edx = {"user": {"sub": "learner-1"}, "resource_link": {"id": "exam-1"}, "attempt_number": 1,
           "action": "terminate", "reason_code": "12056", "incident_time": "2026-11-29T10:50:00Z",
           "incident_severity": "0.25"}
    answer = http.post(f"{live}/lti/acs", json=edx, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"status": "terminated", "extra_time": 0}
    dbsession.expire_all()
    severities = dbsession.execute(select(AttemptControl.incident_severity).order_by(AttemptControl.id)).scalars()
    assert list(severities) == [0.1, 0.25]
