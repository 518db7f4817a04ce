"""LTI refusals: each names the check that failed with a stable code.

``LtiError`` is a 400 (a page for browsers, JSON for programs). ``AuthorizationError`` carries an
OAuth 2 error code; once the client and its ``redirect_uri`` are known to be registered, it is
sent back to the tool by redirect, otherwise it is shown as a page.
"""

from __future__ import annotations

from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config

from ..errors import ProctorhubError
from ..errors.views import render_error


class LtiError(ProctorhubError):
    status = 400
    code = "invalid_lti_message"


class AuthorizationError(ProctorhubError):
    """An OIDC authentication request refused with an OAuth error code (``invalid_request``, ...).

    ``details["check"]`` names the check. ``redirect_uri`` is set only when it is one of the
    client's registered redirect URIs.
    """

    status = 400

    def __init__(self, code: str, message: str, *, check: str, redirect_uri: str | None = None,
                 state: str | None = None):
        super().__init__(message, code=code, details={"check": check})
        self.redirect_uri = redirect_uri
        self.state = state


@exception_view_config(AuthorizationError)
def authorization_refused(exc, request):
    """Once the redirect_uri is known to be registered, the refusal goes back to it as the
    answer would have (``response_mode=form_post``): an auto-submitting form posting ``error``,
    ``error_description`` and ``state``. The page's status stays the refusal's."""
    if exc.redirect_uri is None:
        return render_error(exc, request)
    fields = {"error": exc.code, "error_description": exc.message}
    if exc.state:
        fields["state"] = exc.state
    response = render_to_response("proctorhub:templates/lti_form_post.jinja2",
                                  {"action": exc.redirect_uri, "fields": fields, "tool_name": "the tool"},
                                  request=request)
    response.status_int = exc.status
    return response
