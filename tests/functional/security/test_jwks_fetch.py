"""Issue 13 finding 1: the tool's JWKS URL is never a way into the hub's own network."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from proctorhub.models import ToolConfiguration

from ... import factories as f

TOOL = {
    "name": "Internal probe",
    "deployment_id": "dep-1",
    "oidc_login_url": "https://tool.test/login",
    "launch_url": "https://tool.test/launch",
    "redirect_uris": ["https://tool.test/launch"],
    "backend": "rest",
}
PUBLIC_ONLY = {"proctorhub.outbound.allow_private_addresses": "false"}


@pytest.mark.parametrize("jwks_url", [
    "https://127.0.0.1:8443/jwks", "https://localhost/jwks", "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.7/jwks", "https://[::1]/jwks", "https://[::ffff:192.168.1.1]/jwks",
])
def test_a_configuration_naming_an_internal_jwks_url_is_refused(make_app, dbsession, jwks_url):
    app = make_app(**PUBLIC_ONLY)
    token = f.token(dbsession, role="admin", name="admin program")
    created = app.post_json("/admin/configurations/", {**TOOL, "jwks_url": jwks_url}, headers=f.auth(token),
                            status=400).json["error"]
    assert created["code"] == "invalid_payload"
    assert "jwks_url" in created["details"]["fields"]
    assert dbsession.execute(select(ToolConfiguration)).first() is None


def test_an_update_to_an_internal_jwks_url_is_refused(make_app, dbsession):
    app = make_app(**PUBLIC_ONLY)
    token = f.token(dbsession, role="admin", name="admin program")
    created = app.post_json("/admin/configurations/", {**TOOL, "jwks_url": "https://93.184.216.34/jwks"},
                            headers=f.auth(token), status=201).json
    refused = app.patch_json(f"/admin/configurations/{created['id']}", {"jwks_url": "http://localhost:9000/jwks"},
                             headers=f.auth(token), status=400).json["error"]
    assert "jwks_url" in refused["details"]["fields"]
    dbsession.expire_all()
    assert dbsession.execute(select(ToolConfiguration.jwks_url)).scalar_one() == "https://93.184.216.34/jwks"
