"""What a tool's administrator enters on their side to register proctorhub as a platform."""

from __future__ import annotations

from .urls import platform_urls


def tool_setup_values(request, configuration) -> dict:
    """The platform values for one tool configuration (shown on its admin page and JSON)."""
    urls = platform_urls(request.app_settings.issuer)
    return {
        "issuer": urls["issuer"],
        "client_id": configuration.client_id,
        "deployment_id": configuration.deployment_id,
        "authorization_endpoint": urls["authorization_endpoint"],
        "token_endpoint": urls["token_endpoint"],
        "jwks_url": urls["jwks_uri"],
        "openid_configuration": urls["openid_configuration"],
        "start_assessment_url": urls["start_assessment_url"],
        "assessment_control_url": urls["assessment_control_url"],
    }
