"""``GET /``: names the service, its version, and where its parts are."""

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from . import __version__


@view_config(route_name="home", renderer="proctorhub:templates/home.jinja2",
             permission=NO_PERMISSION_REQUIRED, accept="text/html")
@view_config(route_name="home", renderer="json", permission=NO_PERMISSION_REQUIRED, accept="application/json")
def home(request):
    links = {
        "api": request.application_url + "/api/v1/",
        "reviews": request.application_url + "/api/v1/reviews/{backend}",
        "jwks": request.application_url + "/lti/jwks",
        "openid_configuration": request.application_url + "/.well-known/openid-configuration",
        "admin": request.application_url + "/admin/",
    }
    return {"service": "proctorhub", "version": __version__, "links": links}


def includeme(config):
    config.add_route("home", "/")
