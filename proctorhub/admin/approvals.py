"""``POST /admin/configurations/{id}/approve`` and ``/reject``: an admin decides on what a tool
asked for through LTI Dynamic Registration (a new tool, or a new registration of a known one).

Approving a new tool makes its configuration ``active`` (it may be launched); approving an update
puts the filed values in force. Rejecting a new tool marks it ``rejected``; rejecting an update
drops it and the live values stay. Both are in the configuration's audit trail.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from ..registrations import service
from ..security import Permission
from . import audit
from .forms import admin_url
from .resources import ConfigurationResource, admin_view
from .serialize import configuration_json

DECISIONS = {"approve": service.approve, "reject": service.reject}


def _decide(request, context, decision: str) -> None:
    changes = DECISIONS[decision](context.row)
    request.dbsession.flush()
    audit.record(request, object_type="configuration", object_id=context.row.id, action=decision, changes=changes)


@admin_view(context=ConfigurationResource, name="approve", request_method="POST", accept="application/json",
             renderer="json", permission=Permission.manage_configurations)
@admin_view(context=ConfigurationResource, name="reject", request_method="POST", accept="application/json",
             renderer="json", permission=Permission.manage_configurations)
def decide_json(context, request):
    """Approve or reject what waits for approval: 200 with the configuration; 409
    ``nothing_to_approve`` when nothing does."""
    _decide(request, context, request.view_name)
    return configuration_json(request, context.row)


@admin_view(context=ConfigurationResource, name="approve", request_method="POST", accept="text/html",
             permission=Permission.manage_configurations)
@admin_view(context=ConfigurationResource, name="reject", request_method="POST", accept="text/html",
             permission=Permission.manage_configurations)
def decide_form(context, request):
    _decide(request, context, request.view_name)
    request.session.flash("Approved: the tool may be launched." if request.view_name == "approve"
                          else "Rejected.")
    return HTTPSeeOther(admin_url(request, context))
