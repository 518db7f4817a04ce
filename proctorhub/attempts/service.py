"""Finding or creating exams and attempts, as the LMS API and launches both need."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select, update

from ..errors import Conflict, InvalidPayload, NotFound
from ..models import (
    Attempt,
    AttemptStatus,
    Event,
    Exam,
    Launch,
    Review,
    SessionData,
    ToolConfiguration,
    utcnow,
)
from ..models.attempt import new_attempt_code
from ..models.dialect import dialect_of, insert_into, mark_written
from ..models.retry import flush_or_retry
from . import lifecycle
from .facts import ATTEMPT_COLUMNS


@dataclass
class AttemptRequest:
    """What an LMS says about an attempt (validated by the API's colander schema)."""

    user: dict
    resource_link: dict
    attempt_number: int
    context: dict | None = None
    exam: dict | None = None
    config_id: int | None = None
    backend: str | None = None
    external_id: str | None = None


def get_configuration(dbsession, config_id: int) -> ToolConfiguration:
    configuration = dbsession.get(ToolConfiguration, config_id)
    if configuration is None:
        raise NotFound(f"no tool configuration has id {config_id}", code="unknown_configuration",
                       details={"config_id": config_id})
    return configuration


def check_exam_matches(exam: Exam, data: AttemptRequest) -> None:
    """409 when the request names another backend or tool configuration than the exam has:
    never silently ignored (the vendor's callback would be refused later)."""
    if data.backend is not None and exam.backend is not None and data.backend != exam.backend:
        raise Conflict(f"this exam is reviewed by backend {exam.backend!r}, not {data.backend!r}",
                       code="backend_mismatch",
                       details={"exam_backend": exam.backend, "requested_backend": data.backend})
    if (data.config_id is not None and exam.configuration_id is not None
            and data.config_id != exam.configuration_id):
        raise Conflict(f"this exam is proctored through tool configuration {exam.configuration_id}, "
                       f"not {data.config_id}", code="configuration_mismatch",
                       details={"exam_config_id": exam.configuration_id, "requested_config_id": data.config_id})


def find_or_create_exam(dbsession, backends, lms_id: int, data: AttemptRequest) -> Exam:
    """The exam at this context and resource link within the lms ``lms_id``, created if new."""
    configuration = get_configuration(dbsession, data.config_id) if data.config_id is not None else None
    backend = data.backend or (configuration.backend if configuration else None)
    if backend is not None and backend not in backends:
        raise InvalidPayload(
            f"backend {backend!r} is not enabled",
            details={"fields": {"backend": f"not one of: {', '.join(backends.names()) or 'none'}"}},
        )
    context_id = (data.context or {}).get("id", "")
    resource_link_id = data.resource_link["id"]
    exam = dbsession.execute(
        select(Exam).where(Exam.lms_id == lms_id, Exam.context_id == context_id,
                           Exam.resource_link_id == resource_link_id)
    ).scalar_one_or_none()
    if exam is not None:
        check_exam_matches(exam, data)
        if exam.configuration_id is None and configuration is not None:
            exam.configuration = configuration
        if exam.backend is None and backend is not None:
            exam.backend = backend
        return exam
    exam_data = data.exam or {}
    exam = Exam(
        lms_id=lms_id,
        context_id=context_id,
        context_title=(data.context or {}).get("title"),
        resource_link_id=resource_link_id,
        resource_link_title=data.resource_link.get("title"),
        name=exam_data.get("name") or data.resource_link.get("title") or resource_link_id,
        time_limit_mins=exam_data.get("time_limit_mins"),
        is_practice=bool(exam_data.get("is_practice", False)),
        is_proctored=True,
        configuration=configuration,
        backend=backend,
    )
    dbsession.add(exam)
    flush_or_retry(dbsession)
    return exam


def find_or_create_attempt(dbsession, backends, lms_id: int, data: AttemptRequest) -> tuple[Attempt, bool]:
    """The learner's live attempt for this exam (within the lms ``lms_id``) and attempt number;
    ``created`` says if it is new."""
    exam = find_or_create_exam(dbsession, backends, lms_id, data)
    user = data.user
    attempt = dbsession.execute(
        select(Attempt).where(
            Attempt.exam_id == exam.id,
            Attempt.user_id == user["id"],
            Attempt.attempt_number == data.attempt_number,
            Attempt.archived_at.is_(None),
        )
    ).scalar_one_or_none()
    if attempt is not None:
        if attempt.external_id is None and data.external_id:
            attempt.external_id = data.external_id
        return attempt, False
    check_attempt_number_free(dbsession, exam.id, user["id"], data.attempt_number)
    attempt = Attempt(
        exam=exam,
        user_id=user["id"],
        user_name=user.get("name"),
        user_email=user.get("email"),
        user_given_name=user.get("given_name"),
        user_family_name=user.get("family_name"),
        attempt_number=data.attempt_number,
        external_id=data.external_id,
    )
    dbsession.add(attempt)
    flush_or_retry(dbsession)
    return attempt, True


def check_attempt_number_free(dbsession, exam_id: int, user_id: str, attempt_number: int) -> None:
    """After an archive (a reset), the learner's next attempt takes the next number: one already
    used by an archived attempt is 409 ``attempt_number_used``, naming the next free number."""
    same = select(Attempt.id).where(Attempt.exam_id == exam_id, Attempt.user_id == user_id,
                                    Attempt.attempt_number == attempt_number, Attempt.archived_at.is_not(None))
    if dbsession.execute(same.limit(1)).first() is None:
        return
    highest = dbsession.execute(select(func.max(Attempt.attempt_number)).where(
        Attempt.exam_id == exam_id, Attempt.user_id == user_id)).scalar_one()
    raise Conflict(f"attempt number {attempt_number} was used by an archived attempt; the next is {highest + 1}",
                   code="attempt_number_used",
                   details={"attempt_number": attempt_number, "next_attempt_number": highest + 1})


def unknown_attempt(attempt_code: str) -> NotFound:
    """The 404 for an attempt code that names no attempt, live or archived."""
    return NotFound("no attempt has this attempt code", code="unknown_attempt", details={"attempt_code": attempt_code})


def get_attempt(dbsession, attempt_code: str, lms_id: int) -> Attempt:
    """The attempt with this code in the lms ``lms_id``, live or archived; 404 ``unknown_attempt``
    otherwise: another lms's attempt does not exist for the caller (no existence oracle)."""
    attempt = dbsession.execute(
        select(Attempt).join(Exam, Attempt.exam_id == Exam.id)
        .where(Attempt.attempt_code == attempt_code, Exam.lms_id == lms_id)
    ).scalar_one_or_none()
    if attempt is None:
        raise unknown_attempt(attempt_code)
    return attempt


def review_of(dbsession, attempt: Attempt) -> Review | None:
    return dbsession.execute(select(Review).where(Review.attempt_code == attempt.attempt_code)).scalar_one_or_none()


def archive(dbsession, attempt: Attempt) -> bool:
    """Archive (never erase) the attempt; return whether it was live.

    Its launch URLs and session_data not used yet expire with it, so a launch handed out before
    the reset cannot start the archived attempt (the learner's next launch makes a new one)."""
    if attempt.archived_at is not None:
        return False
    now = utcnow()
    attempt.archived_at = now
    # Not authorized yet covers not entered yet: both steps refuse an expired launch.
    dbsession.execute(update(Launch).where(Launch.attempt_id == attempt.id, Launch.authorized_at.is_(None),
                                           Launch.expires_at > now).values(expires_at=now))
    dbsession.execute(update(SessionData).where(SessionData.attempt_id == attempt.id, SessionData.used_at.is_(None),
                                                SessionData.expires_at > now).values(expires_at=now))
    return True


def latest_live_attempt(dbsession, *, lms_id: int, user_id: str, resource_link_id: str,
                        context_id: str | None = None) -> Attempt | None:
    """The user's latest live attempt at this resource link (and context, when given) of the lms."""
    latest = (
        select(Attempt).join(Exam, Attempt.exam_id == Exam.id)
        .where(Exam.lms_id == lms_id, Attempt.user_id == user_id, Exam.resource_link_id == resource_link_id,
               Attempt.archived_at.is_(None))
        .order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(1)
    )
    if context_id is not None:
        latest = latest.where(Exam.context_id == context_id)
    return dbsession.execute(latest).scalar_one_or_none()


def submit(dbsession, attempt: Attempt) -> None:
    """The learner finished: ``submitted`` (again is harmless); 409 once reviewed or terminated."""
    if lifecycle.past_submission(attempt.status):
        raise Conflict(f"the attempt is {attempt.status}; it was submitted already", code="invalid_status_change",
                       details={"from": attempt.status, "to": AttemptStatus.submitted.value})
    lifecycle.move(dbsession, attempt, AttemptStatus.submitted, reason="submitted by the LMS")


# --- Core fast paths for the LTI launch (one statement each, no ORM objects) -----------------

attempt_t = Attempt.__table__
event_t = Event.__table__

# Built once: executed with parameters, each reuses one compiled form.
# What a new attempt's INSERT returns: its facts (attempts.facts), for the answer.
_ATTEMPT_RETURNING = ATTEMPT_COLUMNS


# The conflict target of a new attempt: one live attempt per learner, exam and attempt number.
LIVE_ATTEMPT = next(index for index in attempt_t.indexes if index.name == "uq_attempt_live")


def insert_attempt_if_new(dbsession, exam_id: int, data: AttemptRequest, *, then_insert: tuple | None = None):
    """Insert the learner's attempt unless a live one exists: its row (a mapping), or None.

    ``then_insert=(table, column, values)``: if the attempt was inserted, also insert ``values``
    into ``table`` with ``column`` naming the new attempt (on PostgreSQL in the same statement)."""
    dialect = dialect_of(dbsession)
    user = data.user
    values = {"exam_id": exam_id, "user_id": user["id"], "user_name": user.get("name"),
              "user_email": user.get("email"), "user_given_name": user.get("given_name"),
              "user_family_name": user.get("family_name"), "attempt_number": data.attempt_number,
              "external_id": data.external_id}
    now = utcnow()
    # Given here, not left to the model's Python-side defaults: nested in a CTE an INSERT gets none
    # from SQLAlchemy, and a statement that needs none goes straight to the driver (models.driver).
    values.update(attempt_code=new_attempt_code(), status=AttemptStatus.created.value,
                  end_assessment_return=False, extra_time_seconds=0, paused_seconds=0, created_at=now, modified_at=now)
    connection = dbsession.connection()
    if then_insert is not None and dialect.chains_writes:
        table, column, dependent = then_insert
        statement = _insert_attempt_then(dialect, tuple(values), table, column, tuple(dependent))
        rows = dialect.run(connection, statement, {
            **{f"attempt_{name}": value for name, value in values.items()},
            **{f"row_{name}": value for name, value in dependent.items()}})
        if not rows:
            return None
        mark_written(dbsession)
        return rows[0]
    row = dialect.insert_if_new(dbsession, attempt_t, values, unique=LIVE_ATTEMPT, returning=_ATTEMPT_RETURNING)
    if row is not None and then_insert is not None:
        table, column, dependent = then_insert
        dialect.run(connection, insert_into(table), {column: row["id"], **dependent})
    return row


@functools.cache
def _insert_attempt_then(dialect, columns: tuple[str, ...], table, column: str, dependent: tuple[str, ...]):
    """For a dialect that chains writes, built once per shape: ``WITH new_attempt AS (INSERT ...
    ON CONFLICT DO NOTHING RETURNING ...), dependent AS (INSERT INTO table ... SELECT ... FROM
    new_attempt) SELECT * FROM new_attempt``. Parameter names are unlike column names: an
    INSERT's execution takes column-named ones as values."""
    new_attempt = (
        dialect.insert_if_new_statement(attempt_t, unique=LIVE_ATTEMPT, returning=_ATTEMPT_RETURNING)
        .values({name: bindparam(f"attempt_{name}", type_=attempt_t.c[name].type) for name in columns})
        .cte("new_attempt")
    )
    values = [new_attempt.c.id, *(bindparam(f"row_{name}", type_=table.c[name].type) for name in dependent)]
    then = (insert(table).from_select([column, *dependent], select(*values).select_from(new_attempt))
            .returning(table.c.id).cte("dependent"))
    return select(*(new_attempt.c[name] for name in _ATTEMPT_RETURNING)).add_cte(then)
