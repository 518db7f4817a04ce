"""The sandbox tool's WSGI application."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.config import Configurator
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from .errors import ToolError
from .keys import ToolKey
from .platform import PlatformKeys
from .settings import ToolSettings
from .store import Store

COOKIE_NAME = "proctorhub_sandbox"


@dataclass(frozen=True)
class Client:
    """The tool's registration at the platform."""

    client_id: str
    deployment_id: str


@dataclass
class Tool:
    """Everything the views share, made once at start-up."""

    settings: ToolSettings
    key: ToolKey
    store: Store
    platform_keys: PlatformKeys

    def client(self) -> Client:
        """The client_id and deployment_id given at start, or else those the platform answered
        when the tool registered itself."""
        if self.settings.client_id:
            return Client(self.settings.client_id, self.settings.deployment_id)
        stored = self.store.registration(self.settings.issuer)
        if stored is None:
            raise ToolError("not_registered", "this tool is not registered with the platform yet: start an LTI "
                            f"Dynamic Registration in proctorhub's admin with {self.settings.registration_url}",
                            status=409)
        return Client(*stored)


def make_app(settings: ToolSettings, key: ToolKey | None = None):
    """The tool as a WSGI app; ``key`` defaults to the one in ``settings.key_file`` (made if missing)."""
    tool = Tool(settings, key or ToolKey.load_or_create(settings.key_file), Store(settings.db_file),
                PlatformKeys(settings.platform_jwks_url))
    with Configurator() as config:
        config.registry.tool = tool
        # The platform posts the id_token to /launch from its own origin. Over https that is a
        # cross-site post, which only a SameSite=None (hence Secure) cookie survives; over plain
        # http the browser refuses SameSite=None without Secure, so the tool must share the
        # platform's host name (localhost) and rely on Lax.
        config.set_session_factory(SignedCookieSessionFactory(
            settings.cookie_secret, cookie_name=COOKIE_NAME, httponly=True, secure=settings.secure_cookies,
            samesite="None" if settings.secure_cookies else "Lax", timeout=3600, hashalg="sha512",
            salt="proctorhub_sandbox.", serializer=JSONSerializer(),
        ))
        # Forms the tool serves itself carry a CSRF token; /login and /launch opt out (they are
        # the platform's cross-site redirects and posts, protected by state and nonce instead).
        config.set_default_csrf_options(require_csrf=True)
        config.add_route("home", "/")
        config.add_route("jwks", "/jwks")
        config.add_route("well_known_jwks", "/.well-known/jwks.json")
        config.add_route("login", "/login")
        config.add_route("launch", "/launch")
        config.add_route("start", "/start")
        config.add_route("review", "/review")
        config.add_route("register", "/register")
        config.scan(".views")
        return config.make_wsgi_app()
