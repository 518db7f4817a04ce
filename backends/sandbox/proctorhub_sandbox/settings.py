"""What the sandbox tool is told at start: the platform it trusts and its own registration there."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToolSettings:
    #: proctorhub's base URL; its other endpoints default to the paths proctorhub serves them at.
    platform_url: str
    #: Where browsers reach this tool, e.g. ``http://localhost:6544``.
    base_url: str
    #: The client_id proctorhub issued for this tool's configuration, when it was configured by
    #: hand; empty when the tool registers itself (LTI Dynamic Registration, at ``/register``).
    client_id: str = ""
    deployment_id: str = "1"
    #: The name the tool registers under (LTI Dynamic Registration's ``client_name``).
    name: str = "Sandbox vendor"
    #: The platform's LTI issuer (``proctorhub.issuer``); defaults to ``platform_url``.
    issuer: str = ""
    authorization_url: str = ""
    platform_jwks_url: str = ""
    review_url: str = ""
    #: The shared secret of proctorhub's ``sandbox`` backend (``proctorhub.backend.sandbox.secret``).
    review_secret: str = ""
    key_file: str = "proctorhub-sandbox-key.pem"
    db_file: str = "proctorhub-sandbox.sqlite"
    #: Signs the browser cookie; a fresh one per process unless given (restarting ends open logins).
    cookie_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: Clock skew tolerated on the platform's iat/exp.
    leeway_seconds: int = 10
    #: Lifetime of the LtiStartAssessment JWT the tool signs.
    message_ttl_seconds: int = 300

    def __post_init__(self):
        platform = self.platform_url.rstrip("/")
        defaults = {
            "platform_url": platform,
            "base_url": self.base_url.rstrip("/"),
            "issuer": self.issuer or platform,
            "authorization_url": self.authorization_url or f"{platform}/lti/authorize",
            "platform_jwks_url": self.platform_jwks_url or f"{platform}/lti/jwks",
            "review_url": self.review_url or f"{platform}/api/v1/reviews/sandbox",
        }
        for name, value in defaults.items():
            object.__setattr__(self, name, value)

    @property
    def login_url(self) -> str:
        return f"{self.base_url}/login"

    @property
    def launch_url(self) -> str:
        return f"{self.base_url}/launch"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/jwks"

    @property
    def registration_url(self) -> str:
        """The initiation URL of LTI Dynamic Registration: paste it into proctorhub's admin."""
        return f"{self.base_url}/register"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def registration(base_url: str, *, name: str = "Sandbox vendor", deployment_id: str = "1",
                 backend: str | None = "sandbox") -> dict:
    """The body of ``POST /admin/configurations/`` that registers a tool served at ``base_url``."""
    base_url = base_url.rstrip("/")
    body = {
        "name": name,
        "deployment_id": deployment_id,
        "oidc_login_url": f"{base_url}/login",
        "launch_url": f"{base_url}/launch",
        "redirect_uris": [f"{base_url}/launch"],
        "jwks_url": f"{base_url}/jwks",
        "proctoring_enabled": True,
    }
    if backend:
        body["backend"] = backend
    return body
