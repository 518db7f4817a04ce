"""The platform's public keys and OpenID configuration, for tools to verify what it signs."""

from __future__ import annotations

from pyramid.view import view_config

from .. import __version__
from ..models import MessageType
from ..security import Permission
from . import claims as c
from .keys import ALGORITHM, jwks
from .platform import PRODUCT_FAMILY_CODE
from .tokens import ALGORITHMS
from .urls import platform_urls

# Short enough that tools pick up a ``next`` key well before a rotation makes it sign.
JWKS_MAX_AGE_SECONDS = 300


@view_config(route_name="lti.jwks", request_method="GET", renderer="json", permission=Permission.lti)
@view_config(route_name="lti.well_known_jwks", request_method="GET", renderer="json", permission=Permission.lti)
def platform_jwks(request):
    """The published keys: next, active, and retired ones whose tokens may still be valid."""
    request.response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return jwks(request.dbsession)


@view_config(route_name="lti.openid_configuration", request_method="GET", renderer="json",
             permission=Permission.lti)
def openid_configuration(request):
    """OpenID Provider metadata: issuer, the authorization, token, JWKS and registration endpoints,
    and the LTI platform configuration a tool reads at Dynamic Registration."""
    issuer = request.app_settings.issuer
    urls = platform_urls(issuer)
    request.response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return {
        "issuer": issuer,
        "authorization_endpoint": urls["authorization_endpoint"],
        "token_endpoint": urls["token_endpoint"],
        "jwks_uri": urls["jwks_uri"],
        "registration_endpoint": urls["registration_endpoint"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": ["openid", c.ACS_SCOPE],
        "response_types_supported": ["id_token"],
        "response_modes_supported": ["form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": ["iss", "aud", "azp", "sub", "exp", "iat", "nonce", "name", "given_name", "family_name",
                             "email"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": PRODUCT_FAMILY_CODE,
            "version": __version__,
            "messages_supported": [{"type": message_type.value} for message_type in MessageType],
        },
    }
