"""``/admin/attempts/{attempt_code}``: an attempt, its review and its status history."""

from __future__ import annotations

from sqlalchemy import select

from ..attempts.serialize import attempt_json
from ..attempts.service import review_of
from ..attempts.timing import time_fields
from ..models import AttemptControl, Event, EventKind
from ..security import Permission
from .forms import admin_url
from .resources import AttemptResource, admin_view
from .serialize import status_history_json

TEMPLATES = "proctorhub:templates/admin/"


def controls(dbsession, attempt) -> list[AttemptControl]:
    """The ACS actions the tool applied to the attempt, oldest first (flags are its incidents)."""
    return list(dbsession.execute(
        select(AttemptControl).where(AttemptControl.attempt_id == attempt.id).order_by(AttemptControl.id)
    ).scalars())


def status_history(dbsession, attempt) -> list[Event]:
    return list(dbsession.execute(
        select(Event)
        .where(Event.attempt_id == attempt.id, Event.kind == EventKind.attempt_status_changed.value)
        .order_by(Event.id)
    ).scalars())


def control_json(control: AttemptControl) -> dict:
    return {"action": control.action, "incident_time": control.incident_time,
            "incident_severity": control.incident_severity, "extra_time": control.extra_time,
            "reason_code": control.reason_code, "reason_msg": control.reason_msg,
            "status_before": control.status_before, "status_after": control.status_after,
            "created_at": control.created_at.isoformat()}


@admin_view(context=AttemptResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_attempt)
def attempt_show(context, request):
    """The attempt in the API's shape, plus ``status_history`` (oldest first)."""
    attempt = context.row
    answer = attempt_json(attempt, review_of(request.dbsession, attempt), now=request.now)
    answer["acs_controls"] = [control_json(c) for c in controls(request.dbsession, attempt)]
    answer["status_history"] = [status_history_json(e) for e in status_history(request.dbsession, attempt)]
    return answer


@admin_view(context=AttemptResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "attempt.jinja2", permission=Permission.view_attempt)
def attempt_page(context, request):
    attempt = context.row
    review = review_of(request.dbsession, attempt)
    root = context.__parent__.__parent__
    return {
        "attempt": attempt,
        "exam": attempt.exam,
        "review": review,
        "history": status_history(request.dbsession, attempt),
        "time": time_fields(attempt, request.now),
        "controls": controls(request.dbsession, attempt),
        "review_url": admin_url(request, root["reviews"], str(review.id)) if review else None,
        "exam_url": admin_url(request, root["exams"], str(attempt.exam_id)),
        "nav": "reviews",
    }
