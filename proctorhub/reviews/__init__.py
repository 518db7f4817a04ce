"""Vendor review callbacks: ``POST /api/v1/reviews/{backend}``."""

from pyramid.authorization import Allow, Everyone

from ..errors import NotFound
from ..security import Permission


class BackendResource:
    """The enabled backend named in the URL; unknown names are 404 ``unknown_backend``."""

    # Vendors are not users: each backend authenticates its own callbacks (by default an
    # HMAC signature), first thing in the view, before the body is read.
    __acl__ = [(Allow, Everyone, Permission.submit_review)]
    # Nobody signs in here: no API token, no staff session (and so no CSRF token) counts.
    accepts_api_tokens = False
    accepts_session_cookie = False

    def __init__(self, request):
        name = request.matchdict["backend"]
        self.backend = request.backends.get(name)
        if self.backend is None:
            raise NotFound(
                f"no enabled backend is named {name!r}",
                code="unknown_backend",
                details={"backend": name, "enabled": request.backends.names()},
            )


def includeme(config):
    config.add_route("reviews.callback", "/reviews/{backend}", factory=BackendResource)
