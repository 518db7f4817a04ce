"""Authentication (API tokens, staff sessions) and authorization (ACLs on resources)."""

from .permissions import Permission, course_principal, role_principal  # noqa: F401
from .policy import Identity, SecurityPolicy  # noqa: F401


def includeme(config):
    config.set_security_policy(SecurityPolicy())
    # The signed staff session cookie, and CSRF checks on what relies on it.
    config.include(".session")
    # Security headers (CSP with a nonce, framing, nosniff, referrer, caching, HSTS) on every response.
    config.include(".headers")
