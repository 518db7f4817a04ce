"""``POST /lti/register``: the registration endpoint a tool posts its client metadata to.

Authenticated by the one-time registration token the admin's registration URL carried
(``Authorization: Bearer <registration_token>``). Refusals use proctorhub's one error shape
(``{"error": {"status", "code", "message", "details"}}``), each with its own code: 401
``missing_registration_token``, ``invalid_registration_token``, ``registration_token_used``,
``registration_token_expired``; 400 ``invalid_payload``, ``missing_client_metadata``,
``invalid_client_metadata``, ``invalid_application_type``, ``invalid_response_types``,
``invalid_grant_types``, ``invalid_token_endpoint_auth_method``, ``invalid_redirect_uri``,
``invalid_url``, ``private_address``, ``domain_mismatch``, ``unsupported_message_type``,
``missing_start_proctoring``, ``invalid_scope``; 413
``payload_too_large``. A refused request writes nothing and leaves the token unspent.
"""

from __future__ import annotations

from pyramid.view import exception_view_config, view_config

from ..errors.views import render_error
from ..outbound import OutboundRefused
from ..schemas import parse_json_object
from ..security import Permission
from . import service
from .metadata import RegistrationRefused, read_tool_metadata


def _bearer(request) -> str | None:
    authorization = request.authorization
    if authorization is None or str(authorization.authtype).lower() != "bearer":
        return None
    token = authorization.params
    return token.strip() if isinstance(token, str) else None


def refuse_private_addresses(request, urls) -> None:
    """Every URL proctorhub will fetch or send a browser to must not lead into its own network
    (the same check as every outbound fetch: ``proctorhub.outbound``)."""
    for url in urls:
        try:
            request.outbound.check_url(url)
        except OutboundRefused as refused:
            if refused.reason == "refused_address":
                raise RegistrationRefused(f"{url} points to a private, loopback or otherwise non-public address",
                                          code="private_address", details={"url": url}) from None
            raise RegistrationRefused(f"{url} is not a URL proctorhub can use", code="invalid_url",
                                      details={"url": url}) from None


@view_config(route_name="lti.register", request_method="POST", renderer="json", permission=Permission.lti)
def register(request):
    """A tool's registration request (LTI Dynamic Registration 1.0): 200 with the registered
    client (``client_id``, and ``deployment_id`` in the tool configuration object)."""
    registration = service.registration_for_token(request.dbsession, _bearer(request))
    metadata = read_tool_metadata(parse_json_object(request.body))
    refuse_private_addresses(request, metadata.fetched_urls)
    configuration = service.complete(request.dbsession, registration, metadata)
    return service.registration_response(configuration, metadata)


@exception_view_config(service.RegistrationTokenRefused)
def token_refused(exc, request):
    response = render_error(exc, request)
    # RFC 6750: a refused bearer token says so in the challenge.
    response.headers["WWW-Authenticate"] = (f'Bearer realm="proctorhub", error="invalid_token", '
                                            f'error_description="{exc.code}"')
    return response
