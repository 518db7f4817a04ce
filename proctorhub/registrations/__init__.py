"""LTI Dynamic Registration: a proctoring tool registers itself; an admin approves it.

``POST /lti/register`` is the registration endpoint published in the platform's OpenID
configuration (``registration_endpoint``); the admin's side (starting a registration, approving
what a tool asked for) lives in ``proctorhub.admin``.
"""

from ..lti import LtiRoot


def includeme(config):
    config.add_route("lti.register", "/lti/register", factory=LtiRoot)
