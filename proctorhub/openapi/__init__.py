"""``GET /api/v1/openapi.json``: the HTTP API as an OpenAPI 3.1 document (``document.py``)."""

from __future__ import annotations

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .document import openapi_document


@view_config(route_name="api.openapi", request_method="GET", renderer="json", permission=NO_PERMISSION_REQUIRED)
def openapi_view(request):
    """The OpenAPI 3.1 description of the LMS API, review callbacks, ACS/token, operations and the admin's JSON."""
    return request.registry["openapi_document"]


def includeme(config):
    from .. import __version__

    config.registry["openapi_document"] = openapi_document(config.registry.app_settings.issuer, __version__)
    config.add_route("api.openapi", "/api/v1/openapi.json")
