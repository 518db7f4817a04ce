"""The sandbox tool's WSGI application."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.config import Configurator
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from .keys import ToolKey
from .platform import PlatformKeys
from .settings import ToolSettings
from .store import Store

COOKIE_NAME = "proctorhub_sandbox"


@dataclass
class Tool:
    """Everything the views share, made once at start-up."""

    settings: ToolSettings
    key: ToolKey
    store: Store
    platform_keys: PlatformKeys


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
        config.scan(".views")
        return config.make_wsgi_app()
