"""What a tool's administrator must enter on their side to register proctorhub as a platform."""

from __future__ import annotations

from ..models import ToolConfiguration


def platform_values(request, configuration: ToolConfiguration) -> dict:
    """Issuer, endpoints and identifiers, as DESIGN.md section 5.3 names the platform's routes."""
    issuer = request.app_settings.issuer
    return {
        "issuer": issuer,
        "client_id": configuration.client_id,
        "deployment_id": configuration.deployment_id,
        "authorization_endpoint": f"{issuer}/lti/authorize",
        "token_endpoint": f"{issuer}/lti/token",
        "jwks_url": f"{issuer}/lti/jwks",
        "start_assessment_url": f"{issuer}/lti/start-assessment",
        "openid_configuration": f"{issuer}/.well-known/openid-configuration",
    }


LABELS = {
    "issuer": "Platform issuer (iss)",
    "client_id": "Client ID",
    "deployment_id": "Deployment ID",
    "authorization_endpoint": "OIDC authorization endpoint",
    "token_endpoint": "OAuth 2 token endpoint",
    "jwks_url": "Platform public keyset (JWKS) URL",
    "start_assessment_url": "Start assessment URL (LtiStartAssessment)",
    "openid_configuration": "OpenID configuration",
}
