"""Authentication (API tokens, staff sessions) and authorization (ACLs on resources)."""

from .permissions import Permission, course_principal, role_principal  # noqa: F401
from .policy import Identity, SecurityPolicy  # noqa: F401


def includeme(config):
    config.set_security_policy(SecurityPolicy())
