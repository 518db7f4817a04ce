"""LTI 1.3 platform for 1EdTech Proctoring Services: launches, OIDC authorization, start and end
of assessment, the Assessment Control Service, and the platform's keys."""

from pyramid.authorization import Allow, Everyone

from ..security import Permission
from .setup_values import tool_setup_values  # noqa: F401


class LtiRoot:
    """The context of the LTI protocol routes: anyone may call them; each view then runs the
    checks its step of the protocol requires (launch token, cookie, signed JWT, access token)."""

    __acl__ = [(Allow, Everyone, Permission.lti)]
    # A Bearer token here is the ACS access token the platform issued, never an API token: the
    # security policy does not look it up among them.
    accepts_api_tokens = False
    # Tools post here cross-site by design; the staff session cookie means nothing here, and
    # these routes are protected by their own single-use tokens and nonces instead of CSRF.
    accepts_session_cookie = False
    # An LMS may show the learner's launch in an iframe: these pages may be framed.
    framing_allowed = True

    def __init__(self, request):
        self.request = request


class LtiServiceRoot(LtiRoot):
    """The context of the LTI services that tools call as programs (token endpoint, ACS): their
    refusals are JSON whatever the caller accepts."""

    json_errors = True


def includeme(config):
    config.add_route("lti.launch", "/lti/launch/{token}", factory=LtiRoot)
    config.add_route("lti.authorize", "/lti/authorize", factory=LtiRoot)
    config.add_route("lti.start_assessment", "/lti/start-assessment", factory=LtiRoot)
    config.add_route("lti.token", "/lti/token", factory=LtiServiceRoot)
    config.add_route("lti.acs", "/lti/acs", factory=LtiServiceRoot)
    config.add_route("lti.jwks", "/lti/jwks", factory=LtiRoot)
    config.add_route("lti.well_known_jwks", "/.well-known/jwks.json", factory=LtiRoot)
    config.add_route("lti.openid_configuration", "/.well-known/openid-configuration", factory=LtiRoot)
