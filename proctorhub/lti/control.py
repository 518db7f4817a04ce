"""The Assessment Control Service's rules (DESIGN.md 5.3): which attempt a request names, what
each action does to it and to its time ledger, and what makes a request a replay.

Takes a database session and plain values; the view (``acs.py``) parses, authenticates and
renders. Every applied action is one ``attempt_control`` row and one ``attempt.control`` event;
a status change adds its ``attempt.status_changed`` event through the lifecycle.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import asdict, dataclass

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import aliased

from .. import events
from ..attempts import lifecycle, timing
from ..errors import Conflict, Forbidden, InvalidPayload, NotFound, Unauthenticated
from ..models import (
    COMPLETED_STATUSES,
    Attempt,
    AttemptControl,
    AttemptStatus,
    ConfigurationStatus,
    EventKind,
    Exam,
    ToolConfiguration,
)
from ..models.dialect import dialect_of, insert_into
from .access_tokens import configuration_for_client
from .tables import attempt_t, config_t, exam_t, lms_t

S = AttemptStatus

# The spec's five statuses (OAT's AcsControlResultInterface; TAO maps its own the same way).
SPEC_STATUS = {
    S.created: "none", S.ready_to_start: "none", S.started: "running", S.paused: "paused",
    S.terminated: "terminated",
}


def spec_status(status: str) -> str:
    return SPEC_STATUS.get(AttemptStatus(status), "complete")


@dataclass(frozen=True)
class ControlRequest:
    """An ACS request as the schema read it (severity a float, extra_time whole minutes)."""

    user_sub: str
    resource_link_id: str
    attempt_number: int
    action: str
    incident_time: str | None = None
    incident_severity: float | None = None
    extra_time: int | None = None
    reason_code: str | None = None
    reason_msg: str | None = None

    def digest(self) -> str:
        """Equal for equal requests, whatever their JSON spelling (a severity "0.5" or 0.5)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ControlResult:
    status: str  # the spec's: none, running, paused, terminated, complete
    extra_time: int  # whole minutes granted in total
    applied: bool  # False for a replay, or a request that asked for what already holds


def _replayed(keyed: bool):
    """Whether the attempt (of the enclosing query) applied this request (its ``digest``) already:
    any earlier one when it names its moment (``keyed``: incident_time), else the last one applied
    (a pause, a resume and a pause without incident times are three requests)."""
    earlier = aliased(AttemptControl)
    latest = (select(func.max(AttemptControl.id)).where(AttemptControl.attempt_id == Attempt.id)
              .scalar_subquery())
    match = [and_(earlier.id == latest, earlier.request_digest == bindparam("digest"))]
    if keyed:
        match.append(earlier.request_key == bindparam("digest"))
    return exists().where(earlier.attempt_id == Attempt.id, or_(*match)).label("replayed")


# What an action reads of its attempt (``_change``, the ledger, the answer).
TARGET_COLUMNS = ("id", "attempt_code", "status", "started_at", "paused_at", "paused_seconds", "extra_time_seconds")


@functools.cache
def _target_query(keyed: bool):
    """Built once per form; the values come as parameters. Core, not the ORM: an ACS action is
    a hot path, and only a terminate needs the attempt as an ORM object."""
    return (
        select(*(attempt_t.c[name] for name in TARGET_COLUMNS), config_t.c.id.label("configuration_id"),
               config_t.c.status.label("configuration_status"), config_t.c.acs_actions,
               lms_t.c.slug.label("lms"), _replayed(keyed))
        .select_from(attempt_t)
        .join(exam_t, attempt_t.c.exam_id == exam_t.c.id)
        .join(config_t, exam_t.c.configuration_id == config_t.c.id)
        .join(lms_t, exam_t.c.lms_id == lms_t.c.id)
        .where(config_t.c.client_id == bindparam("client_id"),
               exam_t.c.resource_link_id == bindparam("resource_link_id"),
               attempt_t.c.user_id == bindparam("user_sub"), attempt_t.c.attempt_number == bindparam("attempt_number"),
               attempt_t.c.archived_at.is_(None))
        .order_by(attempt_t.c.id).limit(1).with_for_update(of=attempt_t)
    )


def _find_target(dbsession, client_id: str, request: ControlRequest, digest: str):
    """One statement: the live attempt the request names at one of this tool's exams (a row of
    ``TARGET_COLUMNS``), locked for this transaction (two controls of one attempt apply one after
    the other), with the tool's configuration, the exam's lms and whether the request is a
    replay; None when there is no such attempt."""
    connection = dbsession.connection()
    return dialect_of(connection).first(connection, _target_query(request.incident_time is not None), {
        "client_id": client_id, "resource_link_id": request.resource_link_id, "user_sub": request.user_sub,
        "attempt_number": request.attempt_number, "digest": digest,
    })


def _refusal(dbsession, client_id: str, request: ControlRequest) -> Exception:
    """Why no attempt was found, in order: the token's tool (401), the action (403), then which
    part of the request names nothing (404 ``unknown_attempt``)."""
    configuration = configuration_for_client(dbsession, client_id)
    if configuration is None or configuration.status != ConfigurationStatus.active:
        return Unauthenticated("the access token's client is no longer registered", code="invalid_token",
                               details={"check": "client"})
    offered = _offered(configuration.status, configuration.acs_actions, request)
    if offered is not None:
        return offered
    exams = select(Exam.id).where(Exam.resource_link_id == request.resource_link_id)
    ours = exams.where(Exam.configuration_id == configuration.id)
    if dbsession.execute(ours.limit(1)).first() is None:
        if dbsession.execute(exams.limit(1)).first() is not None:
            return Unauthenticated("the access token was issued to another tool than this resource link's",
                                   code="invalid_token", details={"check": "client"})
        return NotFound("no exam of this tool has this resource link", code="unknown_attempt",
                        details={"missing": "resource_link"})
    users = select(Attempt.id).where(Attempt.exam_id.in_(ours), Attempt.user_id == request.user_sub,
                                     Attempt.archived_at.is_(None))
    if dbsession.execute(users.limit(1)).first() is None:
        return NotFound("this user has no attempt at this resource link", code="unknown_attempt",
                        details={"missing": "user"})
    return NotFound("this user has no attempt with this attempt number here", code="unknown_attempt",
                    details={"missing": "attempt_number"})


def _offered(status: str, actions: list | None, request: ControlRequest) -> Exception | None:
    """Why the tool (its configuration's ``status`` and ACS ``actions``) may not ask this, or None."""
    if status != ConfigurationStatus.active:
        return Unauthenticated("the access token's client is no longer registered", code="invalid_token",
                               details={"check": "client"})
    if request.action not in (actions or []):
        return Forbidden(f"the action {request.action!r} is not offered to this tool", code="unsupported_action",
                         details={"offered": list(actions or [])})
    return None


def _impossible(attempt, action: str, message: str) -> Conflict:
    return Conflict(message, code="invalid_status_change",
                    details={"action": action, "from": attempt.status, "status": spec_status(attempt.status)})


def _closed_pause(attempt, now: dt.datetime) -> dict:
    """The columns that end a pause under way (none if the clock runs)."""
    if attempt.paused_at is None:
        return {}
    # The ledger keeps what the running clock shows: the same sum, from one function.
    return {"paused_seconds": timing.paused_seconds(attempt, now), "paused_at": None}


@dataclass(frozen=True)
class Change:
    """What an action does to the attempt: its columns besides the status, and the status it
    moves to (None: it stays); ``terminate`` when the caller's settlement decides the rest."""

    columns: dict
    status: AttemptStatus | None = None
    terminate: bool = False


def _change(attempt, request: ControlRequest, now: dt.datetime) -> Change | None:
    """What the action changes for ``attempt`` (a ``TARGET_COLUMNS`` row; None: nothing but the
    ledger). 409 for a transition the attempt cannot take."""
    action = request.action
    status = AttemptStatus(attempt.status)
    if action == "pause":
        if status != S.started:
            raise _impossible(attempt, action, f"only a running attempt can be paused; this one is {status}")
        return Change({"paused_at": now}, S.paused)
    if action == "resume":
        if status != S.paused:
            raise _impossible(attempt, action, f"only a paused attempt can be resumed; this one is {status}")
        return Change(_closed_pause(attempt, now), S.started)
    if action == "update":
        if status in COMPLETED_STATUSES:
            raise _impossible(attempt, action, f"the attempt is {status}; its time can no longer change")
        seconds = request.extra_time * 60
        if attempt.extra_time_seconds == seconds:
            return None
        return Change({"extra_time_seconds": seconds, "modified_at": now})
    if action == "terminate":
        if status == S.terminated:
            return None
        if lifecycle.past_submission(status):
            raise _impossible(attempt, action, f"the attempt is {status} already; it cannot be terminated")
        return Change(_closed_pause(attempt, now), terminate=True)
    return Change({})  # flag: the ledger row is the incident


def apply_control(dbsession, *, client_id: str, request: ControlRequest, raw: dict, now: dt.datetime,
                  on_terminate=None) -> ControlResult:
    """Apply ``request`` for the tool whose access token names ``client_id``; ``raw`` is the
    request body as sent (kept in the ledger and its event). ``on_terminate(attempt,
    configuration)`` settles a terminate (default: the attempt becomes ``terminated``)."""
    if request.action == "update" and request.extra_time is None:
        raise InvalidPayload("an update needs extra_time (whole minutes, the total granted)",
                             details={"fields": {"extra_time": "Required"}})
    digest = request.digest()
    target = _find_target(dbsession, client_id, request, digest)
    if target is None:
        raise _refusal(dbsession, client_id, request)
    refused = _offered(target.configuration_status, target.acs_actions, request)
    if refused is not None:
        raise refused
    if target.replayed:
        return ControlResult(spec_status(target.status), target.extra_time_seconds // 60, False)
    change = _change(target, request, now)
    control = {
        "attempt_id": target.id, "action": request.action, "request_digest": digest,
        "request_key": digest if request.incident_time is not None else None,
        "incident_time": request.incident_time, "incident_severity": request.incident_severity,
        "extra_time": request.extra_time, "reason_code": request.reason_code, "reason_msg": request.reason_msg,
        "status_before": target.status, "request": raw, "created_at": now,
    }
    if change is not None and change.terminate:
        return _terminate(dbsession, target, request, change, control, now, on_terminate)
    return _write(dbsession, target, request, change, control, now)


def _terminate(dbsession, target, request: ControlRequest, change: Change, control: dict, now: dt.datetime,
               on_terminate) -> ControlResult:
    """A terminate, through the ORM: settling it may store a review (acs_review). The target
    read holds the attempt's row lock already."""
    attempt = dbsession.get(Attempt, target.id)
    for name, value in change.columns.items():
        setattr(attempt, name, value)
    if on_terminate is None:
        lifecycle.move(dbsession, attempt, S.terminated, reason="ACS terminate", now=now)
    else:
        on_terminate(attempt, dbsession.get(ToolConfiguration, target.configuration_id))
    dbsession.add(AttemptControl(**control, status_after=attempt.status))
    result = ControlResult(spec_status(attempt.status), attempt.extra_time_seconds // 60, True)
    events.emit(dbsession, EventKind.attempt_control, attempt,
                control_event_data(attempt.attempt_code, target.lms, attempt.status, request, result))
    return result


def _write(dbsession, target, request: ControlRequest, change: Change | None, control: dict,
           now: dt.datetime) -> ControlResult:
    """Every other action's writes through Core: the attempt's columns, its status event (if it
    moves), the ``attempt.control`` event and the ledger row (one round trip for the attempt and
    its events on PostgreSQL, none of it through the ORM)."""
    planned = None
    columns = change.columns if change is not None else {}
    if change is not None and change.status is not None:
        planned = lifecycle.plan_move(attempt_id=target.id, attempt_code=target.attempt_code, old=target.status,
                                      started_at=target.started_at, new=change.status,
                                      reason=f"ACS {request.action}", now=now, also=columns)
        columns = planned.columns
    status = columns.get("status", target.status)
    result = ControlResult(spec_status(status), columns.get("extra_time_seconds", target.extra_time_seconds) // 60,
                           change is not None)
    logged = [*(planned.events if planned is not None else ()),
              {"kind": EventKind.attempt_control.value, "attempt_id": target.id, "attempt_code": target.attempt_code,
               "payload": control_event_data(target.attempt_code, target.lms, status, request, result)}]
    dialect = dialect_of(dbsession)
    dialect.move_attempt(dbsession, target.id, columns, logged, at=now)
    dialect.run(dbsession.connection(), insert_into(AttemptControl.__table__), {**control, "status_after": status})
    return result


def control_event_data(attempt_code: str, lms: str, attempt_status: str, request: ControlRequest,
                       result: ControlResult) -> dict:
    """``attempt.control``'s data: the attempt it concerns (code and lms slug), the action and its
    fields, and the state the spec's answer gives."""
    data = {"attempt_code": attempt_code, "lms": lms, "action": request.action, "status": result.status,
            "attempt_status": attempt_status, "extra_time": result.extra_time}
    for name in ("incident_time", "incident_severity", "reason_code", "reason_msg"):
        if getattr(request, name) is not None:
            data[name] = getattr(request, name)
    return data
