"""proctorhub: a proctoring hub between learning platforms and online-proctoring vendors."""

import gc
import warnings
from importlib.metadata import PackageNotFoundError, version

# Pyramid still imports setuptools' pkg_resources, which warns on every start of every command.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from pyramid.config import Configurator  # noqa: E402

try:
    __version__ = version("proctorhub")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


def main(global_config, **settings):
    """The WSGI application (``paste.app_factory``)."""
    with Configurator(settings=settings) as config:
        # Typed settings on the registry, read once; environment overrides for secrets.
        config.include(".settings")
        # request.now from the registry's clock (tests set it to fixed moments).
        config.include(".clock")
        # Secrets at rest (platform keys, vendor links) under keys from the environment.
        config.include(".crypto")
        # The one outbound HTTP fetcher (deadline, size cap, no redirects, global addresses only).
        config.include(".outbound")
        # Server-rendered pages: the home page, error pages, the staff admin, LTI forms.
        config.include("pyramid_jinja2")
        config.add_jinja2_renderer(".jinja2")
        # Where a resource has both, programs (no Accept, or */*) get JSON; browsers ask for HTML.
        config.add_accept_view_order("application/json", weighs_more_than="text/html")
        # Engine, request.dbsession, one transaction per request, retries on lost races.
        config.include(".models")
        # Bearer API tokens and staff sessions; ACLs on resources decide.
        config.include(".security")
        # Lmss as tenants: request.lms, the boundary of every LMS API call.
        config.include(".lms")
        # Exception views (the one error shape) and the body-size limit.
        config.include(".errors")
        # Vendor plugins, loaded through stevedore; a broken one stops start-up here.
        config.include(".backends")
        # LTI 1.3 platform (launches, authorization, start/end assessment, ACS, JWKS): all state in the DB.
        config.include(".lti")
        # LTI Dynamic Registration: a tool registers itself at /lti/register, pending an admin's approval.
        config.include(".registrations")
        # GET /: what this service is and where its parts are.
        config.include(".home")
        # LMS API: attempts.
        config.include(".api", route_prefix="/api/v1")
        # Vendor review callbacks.
        config.include(".reviews", route_prefix="/api/v1")
        # Staff admin (traversal under /admin).
        config.include(".admin")
        # Webhook receivers of each lms, under /admin/lms/{slug}/webhooks/.
        config.include(".webhooks")
        # Webhook delivery, email digests and purging: a worker thread here if embedded (make serve).
        config.include(".worker")
        # Scripts and styles of the pages, as files (the pages carry no inline script).
        config.add_static_view("static", "proctorhub:static/", cache_max_age=3600)
        # gzip for HTML and JSON answers, for clients that accept it.
        config.include(".compression")
        config.scan()
    app = config.make_wsgi_app()
    _freeze_start_up_objects()
    return app


_frozen = False


def _freeze_start_up_objects() -> None:
    """Move what start-up made (modules, mappers, compiled statements, templates) out of reach of
    the garbage collector's full passes, once per process: they live as long as the process, and
    walking them made every full pass a pause of 50-70 ms under load. Later apps in the same
    process (the test suite builds many) are left alone, so their garbage is still collected."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
