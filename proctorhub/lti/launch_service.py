"""Launches, as service functions taking a database session and plain values: creating one for
the LMS (the learner's attempt found or made, and a single-use launch row) and the browser's
entry (spending the launch URL, binding the browser session, moving the attempt).

The views are ``api.launches`` (``POST /api/v1/launches``) and ``lti.launches``
(``GET /lti/launch/{token}``).
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, exists, insert, select, update

from ..attempts.facts import AttemptFacts, ExamFacts
from ..attempts.service import AttemptRequest, find_or_create_attempt, get_configuration, insert_attempt_if_new
from ..errors import Conflict, NotFound, PreconditionFailed
from ..lms.service import LmsRef
from ..models import AttemptStatus, ConfigurationStatus, MessageType, digest, utcnow
from ..models.dialect import dialect_of, mark_written
from .errors import LtiError
from .single_use import spend_then_move
from .tables import attempt_t, config_t, exam_t, launch_t, session_data_t, session_t

archived_t = attempt_t.alias("archived")

# Built once. The tool configuration, the exam at this resource link and the learner's live
# attempt, in one statement (the exam and attempt LEFT JOINed, so a first launch still finds the tool).
LAUNCH_TARGET_QUERY = (
    select(
        config_t.c.id, config_t.c.status, config_t.c.proctoring_enabled, config_t.c.oidc_login_url,
        config_t.c.launch_url, config_t.c.redirect_uris, config_t.c.backend,
        exam_t.c.id.label("exam_id"), exam_t.c.configuration_id.label("exam_configuration_id"),
        exam_t.c.backend.label("exam_backend"), exam_t.c.time_limit_mins, exam_t.c.is_practice, exam_t.c.is_proctored,
        attempt_t.c.id.label("attempt_id"),
        # An archived attempt with this number: the general path refuses the number (409).
        exists(select(archived_t.c.id).where(
            archived_t.c.exam_id == exam_t.c.id, archived_t.c.user_id == bindparam("user_id"),
            archived_t.c.attempt_number == bindparam("attempt_number"), archived_t.c.archived_at.is_not(None)),
        ).label("number_archived"),
    )
    .select_from(config_t)
    .outerjoin(exam_t, and_(exam_t.c.lms_id == bindparam("lms_id"), exam_t.c.context_id == bindparam("context_id"),
                            exam_t.c.resource_link_id == bindparam("resource_link_id")))
    .outerjoin(attempt_t, and_(attempt_t.c.exam_id == exam_t.c.id, attempt_t.c.user_id == bindparam("user_id"),
                               attempt_t.c.attempt_number == bindparam("attempt_number"),
                               attempt_t.c.archived_at.is_(None)))
    .where(config_t.c.id == bindparam("config_id"))
)
INSERT_LAUNCH = insert(launch_t)
# An LtiStartProctoring launch may start these again: a crashed browser's learner comes back to an
# attempt begun (ready_to_start), running (started) or paused, whose clock goes on as it was.
RELAUNCHABLE = frozenset({AttemptStatus.created, AttemptStatus.ready_to_start, AttemptStatus.started,
                          AttemptStatus.paused})
# A relaunch spends what an earlier launch of the attempt issued and was never used.
SPEND_EARLIER_SESSION_DATA = (
    update(session_data_t)
    .where(session_data_t.c.attempt_id == bindparam("relaunched_attempt_id"), session_data_t.c.used_at.is_(None))
    .values(used_at=bindparam("spent_at", type_=session_data_t.c.used_at.type))
)


def _new_attempt_fast(dbsession, lms, backends, data: dict, target: AttemptRequest,
                      launch: dict) -> AttemptFacts | None:
    """A first ``LtiStartProctoring`` launch of a learner at an exam already set up for this tool
    (nearly every launch): one SELECT, then the new attempt and its ``launch`` row in one INSERT
    each (one statement on PostgreSQL); the attempt's values. None when anything else holds (no
    exam yet, an attempt exists, a check will refuse, a racing twin won the insert), having
    written nothing; the general path then decides, with every check."""
    if data["message_type"] != MessageType.start_proctoring:
        return None
    context_id, resource_link_id = (target.context or {}).get("id", ""), target.resource_link["id"]
    connection = dbsession.connection()
    row = dialect_of(connection).first(connection, LAUNCH_TARGET_QUERY, {
        "config_id": data["config_id"], "lms_id": lms.id, "context_id": context_id,
        "resource_link_id": resource_link_id,
        "user_id": target.user["id"], "attempt_number": target.attempt_number,
    })
    if (row is None or row.status != ConfigurationStatus.active or not row.proctoring_enabled
            or not (row.oidc_login_url and row.launch_url and row.redirect_uris)
            or row.exam_id is None or row.exam_configuration_id != row.id or row.attempt_id is not None
            or row.number_archived
            or (row.backend is not None and (row.backend not in backends or row.exam_backend is None))):
        return None
    launch = {**launch, "configuration_id": row.id}
    attempt = insert_attempt_if_new(dbsession, row.exam_id, target,
                                    then_insert=(launch_t, "attempt_id", launch))
    if attempt is None:
        return None
    # The exam's lms, context and resource link are the ones it was found by. The new attempt's
    # columns are those a review callback reads (insert_attempt_if_new returns them).
    exam = ExamFacts(id=row.exam_id, lms=LmsRef(lms.id, lms.slug), context_id=context_id,
                     resource_link_id=resource_link_id, is_practice=row.is_practice,
                     is_proctored=row.is_proctored, backend=row.exam_backend, time_limit_mins=row.time_limit_mins)
    return AttemptFacts(**attempt, exam=exam)


def _find_or_create_for_launch(dbsession, lms, backends, data: dict, target: AttemptRequest):
    """The general path, through the ORM: every check, in order, with its refusal."""
    configuration = get_configuration(dbsession, data["config_id"])
    if configuration.status != ConfigurationStatus.active:
        # A tool that registered itself launches only once an admin approved it.
        raise PreconditionFailed(f"this tool configuration is {configuration.status}: an admin must approve it "
                                 "before it can be launched", code=f"configuration_{configuration.status}",
                                 details={"status": configuration.status})
    if not configuration.proctoring_enabled:
        raise PreconditionFailed("proctoring is not enabled for this tool configuration", code="proctoring_disabled")
    if not (configuration.oidc_login_url and configuration.launch_url and configuration.redirect_uris):
        raise PreconditionFailed("the tool configuration lacks its OIDC login URL, launch URL or redirect URIs",
                                 code="configuration_incomplete")
    attempt, created = find_or_create_attempt(dbsession, backends, lms.id, target)
    if attempt.exam.configuration_id != configuration.id:
        raise Conflict("this exam is proctored through another tool configuration", code="configuration_mismatch",
                       details={"exam_config_id": attempt.exam.configuration_id,
                                "requested_config_id": configuration.id})
    message_type = MessageType(data["message_type"])
    if message_type == MessageType.start_proctoring and attempt.status not in RELAUNCHABLE:
        raise Conflict(f"the attempt is {attempt.status}; it cannot be started again", code="invalid_status_change",
                       details={"from": attempt.status, "to": AttemptStatus.ready_to_start.value})
    if message_type == MessageType.end_assessment and not attempt.end_assessment_return:
        raise Conflict("the tool did not ask for an LtiEndAssessment launch for this attempt",
                       code="end_assessment_not_requested")
    # The launch row is written with Core below; what the ORM changed goes first.
    dbsession.flush()
    return attempt, created


def create_launch(dbsession, *, lms, backends, data: dict, target: AttemptRequest, launch: dict):
    """The learner's attempt (found or made) and a new single-use launch row of ``launch``'s
    values; ``(attempt, created)``. The fast path first (one SELECT, one INSERT each), the
    general path with every check when it does not apply."""
    attempt = _new_attempt_fast(dbsession, lms, backends, data, target, launch)
    if attempt is not None:
        return attempt, True
    attempt, created = _find_or_create_for_launch(dbsession, lms, backends, data, target)
    connection = dbsession.connection()
    dialect_of(connection).run(connection, INSERT_LAUNCH, {
        **launch, "attempt_id": attempt.id, "configuration_id": attempt.exam.configuration_id})
    mark_written(dbsession)
    return attempt, created


def launch_entry(dbsession, *, token: str, cookie_hash: str | None):
    """The launch its URL's token names, with its tool, attempt and this browser's session (one
    row of plain values); 404 ``unknown_launch``, 400 ``launch_used`` / ``launch_expired``."""
    connection = dbsession.connection()
    launch = dialect_of(connection).first(connection, ENTRY_QUERY, {
        "token_hash": digest(token), "cookie_hash": cookie_hash,
    })
    if launch is None:
        raise NotFound("this launch URL is not known", code="unknown_launch")
    if launch.entered_at is not None:
        raise LtiError("this launch URL was used already; ask the LMS for a new one", code="launch_used")
    if launch.expires_at <= utcnow():
        raise LtiError("this launch URL has expired; ask the LMS for a new one", code="launch_expired")
    return launch


def enter(dbsession, launch, *, session_id: int | None, new_session: dict | None, hint: str) -> None:
    """Spend the launch URL and bind it to the browser session (``session_id``, or the
    ``new_session`` row to insert) and to its message hint. An ``LtiStartProctoring`` entry moves
    a new attempt to ``ready_to_start``; a relaunch (a crashed browser) leaves a running or paused
    attempt and its clock as they are, and spends the session_data issued before."""
    move = None
    relaunch = False
    if launch.message_type == MessageType.start_proctoring:
        relaunch = launch.attempt_status != AttemptStatus.created
        if launch.attempt_status in (AttemptStatus.created, AttemptStatus.ready_to_start):
            move = {"attempt_id": launch.attempt_id, "attempt_code": launch.attempt_code,
                    "old": launch.attempt_status, "started_at": launch.started_at,
                    "new": AttemptStatus.ready_to_start, "reason": "launch"}
    bound = {"browser_session_id": session_id} if new_session is None else {}
    if not spend_then_move(dbsession, launch_t, launch.id, "entered_at", move=move,
                           new_row=new_session and (session_t, new_session, "browser_session_id"),
                           message_hint_hash=digest(hint), **bound):
        raise LtiError("this launch URL was used already; ask the LMS for a new one", code="launch_used")
    if relaunch:
        connection = dbsession.connection()
        dialect_of(connection).run(connection, SPEND_EARLIER_SESSION_DATA,
                                   {"relaunched_attempt_id": launch.attempt_id, "spent_at": utcnow()})


# Built once. The browser's current session (if its cookie names one) is LEFT JOINed by the
# cookie's digest, so the entry reads launch, tool, attempt and session in one statement.
ENTRY_QUERY = (
    select(
        launch_t.c.id, launch_t.c.entered_at, launch_t.c.expires_at, launch_t.c.message_type, launch_t.c.user_id,
        launch_t.c.attempt_id,
        config_t.c.launch_url, config_t.c.end_assessment_url, config_t.c.oidc_login_url, config_t.c.deployment_id,
        config_t.c.client_id,
        attempt_t.c.attempt_code, attempt_t.c.status.label("attempt_status"), attempt_t.c.started_at,
        session_t.c.id.label("session_id"), session_t.c.user_id.label("session_user_id"),
        session_t.c.expires_at.label("session_expires_at"),
    )
    .join_from(launch_t, config_t, config_t.c.id == launch_t.c.configuration_id)
    .join(attempt_t, attempt_t.c.id == launch_t.c.attempt_id)
    .outerjoin(session_t, session_t.c.cookie_hash == bindparam("cookie_hash"))
    .where(launch_t.c.token_hash == bindparam("token_hash"))
)


