"""The platform's LTI URLs, built from the issuer in one place (they must agree with the routes
in ``proctorhub.lti.includeme``)."""

from __future__ import annotations

import functools
from types import MappingProxyType
from urllib.parse import urlencode


@functools.cache
def platform_urls(issuer: str) -> MappingProxyType:
    """Read-only, built once per issuer: the OpenID endpoints, the LTI service URLs, and the
    prefix of the single-use launch URLs handed to LMSs."""
    return MappingProxyType({
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/lti/authorize",
        "token_endpoint": f"{issuer}/lti/token",
        "jwks_uri": f"{issuer}/lti/jwks",
        "openid_configuration": f"{issuer}/.well-known/openid-configuration",
        "registration_endpoint": f"{issuer}/lti/register",
        "start_assessment_url": f"{issuer}/lti/start-assessment",
        "assessment_control_url": f"{issuer}/lti/acs",
        "launch_url_prefix": f"{issuer}/lti/launch/",
    })


def with_query(url: str, params: dict) -> str:
    """``url`` with ``params`` added to its query (a registered URL may have a query of its own)."""
    return url + ("&" if "?" in url else "?") + urlencode(params)
