"""LTI Dynamic Registration in the admin's browser pages: starting a registration (the page that
opens the tool and closes it on ``org.imsglobal.lti.close``), what waits for approval standing
out in the list, the approval page showing what the tool asked for, approving with the form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from proctorhub.models import Registration, ToolConfiguration, digest

from ... import factories as f
from ..registration_helpers import ACS_SCOPE, SPEC_REQUEST, register
from .conftest import HTML, csrf_from, sign_in, staff_with_password


def started_page(testapp, status=201, **fields):
    page = testapp.get("/admin/registrations/", headers=HTML)
    assert 'id="registration-form"' in page.text
    return testapp.post("/admin/registrations/", {"csrf_token": csrf_from(page.text), **fields}, headers=HTML,
                        status=status)


def test_the_started_registration_page_opens_the_tool_with_a_static_script(testapp, dbsession, admin_user):
    sign_in(testapp, "admin@example.edu")
    page = started_page(testapp, initiation_url="https://client.example.org/register", backend="sandbox")
    redirect_url = re.search(r'data-redirect-url="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(redirect_url).query)
    row = dbsession.execute(select(Registration)).scalar_one()
    assert row.token_hash == digest(query["registration_token"][0]) and row.backend == "sandbox"
    assert row.started_by == "staff:admin@example.edu" and row.started_by_staff_id == admin_user.id
    assert query["openid_configuration"] == ["http://platform.test/.well-known/openid-configuration"]
    assert f'data-status-url="http://localhost/admin/registrations/{row.id}"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    # No inline script: the page loads its script as a file, which listens for the close message.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, flags=re.S)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    src = re.search(r'<script src="([^"]+/registration\.js)"', page.text).group(1)
    script = testapp.get(src, status=200)
    assert "org.imsglobal.lti.close" in script.text and "event.source !== toolWindow" in script.text
    # Later, the registration's page shows its state, never the token again.
    later = testapp.get(f"/admin/registrations/{row.id}", headers=HTML)
    assert "waiting" in later.text and query["registration_token"][0] not in later.text


def test_a_bad_initiation_url_comes_back_on_the_form(testapp, dbsession, admin_user):
    sign_in(testapp, "admin@example.edu")
    page = started_page(testapp, initiation_url="ftp://client.example.org/register", status=400)
    assert "must be an absolute http(s) URL" in page.text
    assert dbsession.execute(select(Registration)).first() is None


def test_pending_tools_stand_out_and_the_approval_page_shows_what_they_asked_for(
        testapp, dbsession, admin_user, admin_token):
    f.configuration(dbsession, name="Hand-made tool")
    start = testapp.post_json("/admin/registrations/", {"initiation_url": "https://client.example.org/register"},
                              headers=f.auth(admin_token), status=201).json
    token = parse_qs(urlsplit(start["redirect_url"]).query)["registration_token"][0]
    register(testapp, token, SPEC_REQUEST)
    pending = dbsession.execute(select(ToolConfiguration).where(ToolConfiguration.status == "pending")).scalar_one()

    sign_in(testapp, "admin@example.edu")
    listing = testapp.get("/admin/configurations/", headers=HTML)
    assert "1 tool registration waiting for your approval" in listing.text
    rows = re.findall(r'<tr class="([^"]*)"><td><a href="[^"]+">([^<]+)</a>', listing.text)
    assert rows[0] == ("awaiting-approval", "Virtual Garden") and rows[1] == ("", "Hand-made tool")

    page = testapp.get(f"/admin/configurations/{pending.id}", headers=HTML)
    assert 'id="approval"' in page.text
    for shown in ["LtiStartProctoring", "LtiEndAssessment", ACS_SCOPE, "https://client.example.org/lti",
                  "https://client.example.org/callback2", "https://client.example.org/.well-known/jwks.json",
                  "client.example.org"]:
        assert shown in page.text, shown
    # Approving needs the form's CSRF token.
    testapp.post(f"/admin/configurations/{pending.id}/approve", {}, headers=HTML, status=403)
    dbsession.expire_all()
    assert dbsession.get(ToolConfiguration, pending.id).status == "pending"
    done = testapp.post(f"/admin/configurations/{pending.id}/approve", {"csrf_token": csrf_from(page.text)},
                        headers=HTML, status=303)
    assert done.location.endswith(f"/admin/configurations/{pending.id}/")
    dbsession.expire_all()
    assert dbsession.get(ToolConfiguration, pending.id).status == "active"
    assert 'id="approval"' not in testapp.get(done.location, headers=HTML).text


def test_reviewers_cannot_start_registrations_or_approve(testapp, dbsession):
    staff_with_password(dbsession, "rev@example.edu", courses=["course-A"])
    configuration = f.configuration(dbsession, status="pending")
    sign_in(testapp, "rev@example.edu")
    page = testapp.get("/admin/reviews/", headers=HTML)
    testapp.get("/admin/registrations/", headers=HTML, status=403)
    testapp.post("/admin/registrations/", {"csrf_token": csrf_from(page.text),
                                           "initiation_url": "https://client.example.org/register"},
                 headers=HTML, status=403)
    testapp.post(f"/admin/configurations/{configuration.id}/approve", {"csrf_token": csrf_from(page.text)},
                 headers=HTML, status=403)
    dbsession.expire_all()
    assert dbsession.get(ToolConfiguration, configuration.id).status == "pending"
    assert dbsession.execute(select(Registration)).first() is None
