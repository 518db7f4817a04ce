"""OIDC authorization refusals: OAuth error codes, redirected only to a registered redirect_uri."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from proctorhub.models import Launch

from ...lti_tool import FakeTool
from .conftest import past, snapshot


def _error(response) -> dict:
    """The refusal the platform form-posts back to the tool's registered redirect_uri."""
    assert response.status_int == 400 and "Location" not in response.headers
    action, fields = FakeTool.form_fields(response.text)
    assert action == "https://tool.test/launch" and "id_token" not in fields
    return fields


@pytest.fixture
def entered(flow):
    """A launch whose browser entry is done: the tool's login query."""
    return flow.enter(flow.create_launch()).location


@pytest.mark.parametrize(("change", "code"), [
    ({"scope": "profile"}, "invalid_scope"),
    ({"response_type": "code"}, "unsupported_response_type"),
    ({"response_mode": "query"}, "invalid_request"),
    ({"prompt": "login"}, "invalid_request"),
    ({"nonce": None}, "invalid_request"),
    ({"login_hint": "learner-2"}, "access_denied"),
    ({"login_hint": None}, "invalid_request"),
    ({"lti_message_hint": "not-a-hint"}, "invalid_request"),
])
@pytest.mark.parametrize("method", ["get", "post"])
def test_refusals_go_back_to_the_registered_redirect_uri(flow, entered, dbsession, change, code, method):
    before = snapshot(dbsession)
    answer = flow.authorize(flow.tool.authentication_request(entered, state="s-9", **change), status=400,
                            method=method)
    error = _error(answer)
    assert error["error"] == code and error["state"] == "s-9"
    assert snapshot(dbsession) == before


def test_unregistered_redirect_uri_is_a_page_never_a_redirect(flow, entered, dbsession):
    before = snapshot(dbsession)
    params = flow.tool.authentication_request(entered, redirect_uri="https://evil.test/launch")
    page = flow.app.post("/lti/authorize", params, status=400, headers={"Accept": "text/html"})
    assert "Location" not in page.headers
    assert page.content_type == "text/html" and "invalid_request" in page.text
    as_json = flow.app.post("/lti/authorize", params, status=400).json["error"]
    assert as_json["code"] == "invalid_request" and as_json["details"]["check"] == "redirect_uri"
    assert snapshot(dbsession) == before


def test_unknown_client_is_a_page(flow, entered, dbsession):
    before = snapshot(dbsession)
    answer = flow.authorize(flow.tool.authentication_request(entered, client_id="someone-else"), status=400)
    assert answer.json["error"]["code"] == "unauthorized_client"
    assert snapshot(dbsession) == before


def test_reused_lti_message_hint_is_refused(flow, entered, dbsession):
    flow.authorize(flow.tool.authentication_request(entered))
    before = snapshot(dbsession)
    error = _error(flow.authorize(flow.tool.authentication_request(entered), status=400))
    assert error["error"] == "invalid_request"
    assert snapshot(dbsession) == before


def test_expired_lti_message_hint_is_refused(flow, entered, dbsession):
    dbsession.execute(update(Launch).values(expires_at=past(1)))
    dbsession.commit()
    before = snapshot(dbsession)
    error = _error(flow.authorize(flow.tool.authentication_request(entered), status=400))
    assert error["error"] == "invalid_request"
    assert snapshot(dbsession) == before
    assert dbsession.execute(select(Launch.authorized_at)).scalar_one() is None


def test_another_browser_cannot_use_the_hint(flow, app, entered, dbsession):
    before = snapshot(dbsession)
    stranger = TestApp(app)
    answer = stranger.post("/lti/authorize", flow.tool.authentication_request(entered), status=400)
    assert _error(answer)["error"] == "access_denied"
    assert snapshot(dbsession) == before
    # Its own browser session, entered for another user, does not help either.
    other = flow.create_launch(user_id="learner-2", resource_link_id="exam-2")
    stranger.get(urlsplit(other["launch_url"]).path, status=302)
    before = snapshot(dbsession)
    answer = stranger.post("/lti/authorize", flow.tool.authentication_request(entered), status=400)
    assert _error(answer)["error"] == "access_denied"
    assert snapshot(dbsession) == before


def test_expired_launch_url_is_refused(flow, dbsession):
    launch = flow.create_launch()
    dbsession.execute(update(Launch).values(expires_at=past(1)))
    dbsession.commit()
    before = snapshot(dbsession)
    assert flow.enter(launch, status=400).json["error"]["code"] == "launch_expired"
    assert snapshot(dbsession) == before


def test_state_is_escaped_in_the_form_post(flow, entered):
    page = flow.authorize(flow.tool.authentication_request(entered, state='"><script>alert(1)</script>'))
    assert "<script>alert(1)" not in page.text
    _action, fields = flow.tool.form_fields(page.text)
    assert fields["state"] == '"><script>alert(1)</script>'
