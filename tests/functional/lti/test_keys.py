"""Platform keys: published before they sign, kept after until their tokens expire; the CLI."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from sqlalchemy import select

from proctorhub.cli import main
from proctorhub.lti.keys import rotate
from proctorhub.models import KeyState, PlatformKey

from ...conftest import ROOT
from .conftest import ISSUER, past


def _jwks(testapp, path="/lti/jwks"):
    answer = testapp.get(path, status=200)
    assert "max-age=" in answer.headers["Cache-Control"]
    return answer.json


def _verify_with_jwks(token: str, jwks: dict, audience: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    key = jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER)


def test_jwks_publishes_active_and_next_public_keys_only(testapp, platform_keys):
    for path in ("/lti/jwks", "/.well-known/jwks.json"):
        keys = _jwks(testapp, path)["keys"]
        assert {k["kid"] for k in keys} == {k.kid for k in platform_keys}
        assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k and "p" not in k for k in keys)


def test_openid_configuration(testapp):
    config = testapp.get("/.well-known/openid-configuration", status=200).json
    assert config["issuer"] == ISSUER
    assert config["authorization_endpoint"] == f"{ISSUER}/lti/authorize"
    assert config["token_endpoint"] == f"{ISSUER}/lti/token"
    assert config["jwks_uri"] == f"{ISSUER}/lti/jwks"


def test_rotation_signs_with_the_published_next_key_and_keeps_the_old_one(flow, testapp, dbsession, app):
    active, upcoming = flow_keys = [k.kid for k in dbsession.execute(
        select(PlatformKey).order_by(PlatformKey.state)).scalars()]  # "active" < "next"
    assert len(flow_keys) == 2
    entry = flow.enter(flow.create_launch())
    old_token, _claims = flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))
    assert jwt.get_unverified_header(old_token)["kid"] == active

    result = rotate(dbsession, app.registry.app_settings)
    dbsession.commit()
    assert result["active"] == upcoming and result["retired"] == [active]
    published = _jwks(testapp)
    assert {k["kid"] for k in published["keys"]} == {active, upcoming, result["next"]}
    # A token the retired key signed still verifies against the published keys.
    assert _verify_with_jwks(old_token, published, flow.config.client_id)["sub"] == "learner-1"

    entry = flow.enter(flow.create_launch(resource_link_id="exam-2"))
    new_token, _claims = flow.id_token(flow.authorize(flow.tool.authentication_request(entry.location)))
    assert jwt.get_unverified_header(new_token)["kid"] == upcoming
    _verify_with_jwks(new_token, published, flow.config.client_id)

    retired = dbsession.execute(select(PlatformKey).where(PlatformKey.kid == active)).scalar_one()
    assert retired.retire_after > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=300)
    retired.retire_after = past(1)  # every token it signed has now expired
    dbsession.commit()
    assert active not in {k["kid"] for k in _jwks(testapp)["keys"]}
    result = rotate(dbsession, app.registry.app_settings)
    dbsession.commit()
    assert result["dropped"] == [active]
    states = dict(dbsession.execute(select(PlatformKey.kid, PlatformKey.state)).all())
    assert active not in states and states[upcoming] == KeyState.retired


@pytest.fixture
def ini(tmp_path):
    text = (ROOT / "testing.ini").read_text().replace(
        "sqlite:///%(here)s/testing.sqlite", f"sqlite:///{tmp_path / 'keys.sqlite'}")
    path = tmp_path / "keys.ini"
    path.write_text(text)
    return str(path)


def test_initdb_makes_the_first_keys_once_and_the_keys_commands(ini, capsys):
    assert main(["initdb", ini]) == 0
    assert "platform keys created" in capsys.readouterr().out
    assert main(["initdb", ini]) == 0
    assert "platform keys created" not in capsys.readouterr().out
    assert main(["keys", "list", ini]) == 0
    listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert sorted(row[1] for row in listed) == ["active", "next"]
    assert all(row[4] == "published" for row in listed)
    next_kid = next(row[0] for row in listed if row[1] == "next")
    assert main(["keys", "rotate", ini]) == 0
    rotated = capsys.readouterr().out
    assert f"active  {next_kid}" in rotated
    assert main(["keys", "list", ini]) == 0
    states = sorted(line.split("\t")[1] for line in capsys.readouterr().out.splitlines())
    assert states == ["active", "next", "retired"]


def test_tool_setup_values_name_the_platform_endpoints(flow, app):
    from pyramid.testing import DummyRequest

    from proctorhub.lti import tool_setup_values

    request = DummyRequest()
    request.app_settings = app.registry.app_settings
    values = tool_setup_values(request, flow.config)
    assert values["issuer"] == ISSUER and values["client_id"] == flow.config.client_id
    assert values["deployment_id"] == "deployment-1"
    assert values["authorization_endpoint"] == f"{ISSUER}/lti/authorize"
    assert values["token_endpoint"] == f"{ISSUER}/lti/token"
    assert values["jwks_url"] == f"{ISSUER}/lti/jwks"
    assert values["start_assessment_url"] == f"{ISSUER}/lti/start-assessment"
