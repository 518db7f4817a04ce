"""Staff admin (hybrid traversal under ``/admin``): HTML for people, JSON for programs.

The same resources (``resources.py``) and their ACLs serve both; views are chosen by context and
by ``Accept``. Sign-in and sign-out have routes of their own, matched before the tree.
"""

from markupsafe import Markup
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPSeeOther

from ..security import Permission
from .forms import admin_url
from .resources import AdminRoot, admin_root_factory, admin_view
from .timeline import clock, severity


@admin_view(context=AdminRoot, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_admin)
def admin_index(context, request):
    """Where the admin's collections are."""
    names = ["reviews", "attempts", "exams", "backends"]
    if request.has_permission(Permission.manage_configurations, context):
        names[:0] = ["configurations", "registrations"]
    if request.has_permission(Permission.manage_lms, context):
        names.insert(0, "lms")
    return {"links": {name: admin_url(request, context[name]) for name in names}}


@admin_view(context=AdminRoot, request_method="GET", accept="text/html", permission=Permission.view_admin)
def admin_home(context, request):
    return HTTPSeeOther(admin_url(request, context["reviews"]))


def _datetime(value, fmt="%Y-%m-%d %H:%M"):
    """A time as every page shows it: UTC, named; the pages' script adds the viewer's local time."""
    if value is None:
        return "—"
    shown = value.strftime(fmt.removesuffix(" UTC"))
    return Markup('<time class="utc" datetime="{}">{} UTC</time>').format(value.isoformat(), shown)


def _add_template_helpers(config):
    def register():
        env = config.get_jinja2_environment(".jinja2")
        env.filters["clock"] = clock
        env.filters["severity"] = severity
        env.filters["datetime"] = _datetime
        env.globals["admin_path"] = lambda request, *parts: request.route_path("admin", traverse="/" + "/".join(parts))

    # After pyramid_jinja2 has made its environment.
    config.action(None, register, order=999)


def includeme(config):
    config.add_route("admin.signin", "/admin/sign-in")
    config.add_route("admin.signout", "/admin/sign-out")
    config.add_route("admin", "/admin*traverse", factory=admin_root_factory)
    # An anonymous browser refused by an ACL is sent here (errors.views.forbidden).
    config.registry.signin_route = "admin.signin"
    config.add_request_method(get_csrf_token, "csrf_token", reify=True)
    _add_template_helpers(config)
