"""The labels of what a tool's administrator must enter on their side to register proctorhub as a platform.

The values themselves come from the LTI package (``lti.setup_values.tool_setup_values``), which
owns the platform's endpoints; the admin only labels them.
"""

LABELS = {
    "issuer": "Platform issuer (iss)",
    "client_id": "Client ID",
    "deployment_id": "Deployment ID",
    "authorization_endpoint": "OIDC authorization endpoint",
    "token_endpoint": "OAuth 2 token endpoint",
    "jwks_url": "Platform public keyset (JWKS) URL",
    "start_assessment_url": "Start assessment URL (LtiStartAssessment)",
    "assessment_control_url": "Assessment Control Service URL",
    "openid_configuration": "OpenID configuration",
}
