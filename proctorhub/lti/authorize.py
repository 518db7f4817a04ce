"""``GET|POST /lti/authorize``: the OIDC authentication request of an LTI launch. The checks and
the hint's spending are ``authorize_service``'s; success is an auto-submitting form that posts
``id_token`` and ``state`` to the redirect_uri."""

from __future__ import annotations

import time

from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ..security import Permission
from .authorize_service import authorize as check_and_spend
from .browser import cookie_hash
from .id_token import make_id_token


@view_config(route_name="lti.authorize", request_method=("GET", "POST"), permission=Permission.lti)
def authorize(request):
    """Check the OIDC authentication request; answer with the id_token as an auto-posting form."""
    params = request.POST if request.method == "POST" else request.GET
    done = check_and_spend(request.dbsession, params, cookie_hash=cookie_hash(request),
                           session_ttl_seconds=request.app_settings.session_ttl_seconds)
    id_token = make_id_token(request, done.launch, nonce=done.nonce, session_data=done.session_data,
                             now=int(time.time()), active_kid=done.active_kid)
    fields = {"id_token": id_token}
    if done.state is not None:
        fields["state"] = done.state
    return render_to_response(
        "proctorhub:templates/lti_form_post.jinja2",
        {"action": done.redirect_uri, "fields": fields, "tool_name": done.launch.configuration.name},
        request=request,
    )
