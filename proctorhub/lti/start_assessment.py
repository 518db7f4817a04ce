"""``POST /lti/start-assessment``: the tool's ``LtiStartAssessment``, posted by the learner's
browser, starts the attempt (``start_service``); the browser goes back to the LMS."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..security import Permission
from .browser import cookie_hash
from .errors import LtiError
from .start_service import start


@view_config(route_name="lti.start_assessment", request_method="POST", permission=Permission.lti)
def start_assessment(request):
    """Verify ``LtiStartAssessment``; start the attempt and send the browser back to the LMS."""
    token = request.POST.get("JWT")
    if not token:
        raise LtiError("the form field JWT is missing", code="missing_jwt")
    return_url = start(request.dbsession, token, cookie_hash=cookie_hash(request),
                       app_settings=request.app_settings)
    return HTTPFound(location=return_url)
