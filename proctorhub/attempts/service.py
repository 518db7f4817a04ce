"""Finding or creating exams and attempts, as the LMS API and launches both need."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import InvalidPayload, NotFound
from ..models import Attempt, Exam, Review, ToolConfiguration, utcnow
from ..models.retry import flush_or_retry


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


def find_or_create_exam(dbsession, backends, data: AttemptRequest) -> Exam:
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
        select(Exam).where(Exam.context_id == context_id, Exam.resource_link_id == resource_link_id)
    ).scalar_one_or_none()
    if exam is not None:
        if exam.configuration_id is None and configuration is not None:
            exam.configuration = configuration
        if exam.backend is None and backend is not None:
            exam.backend = backend
        return exam
    exam_data = data.exam or {}
    exam = Exam(
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


def find_or_create_attempt(dbsession, backends, data: AttemptRequest) -> tuple[Attempt, bool]:
    """The learner's live attempt for this exam and attempt number; ``created`` says if it is new."""
    exam = find_or_create_exam(dbsession, backends, data)
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
    attempt = Attempt(
        exam=exam,
        user_id=user["id"],
        user_name=user.get("name"),
        user_email=user.get("email"),
        attempt_number=data.attempt_number,
        external_id=data.external_id,
    )
    dbsession.add(attempt)
    flush_or_retry(dbsession)
    return attempt, True


def get_attempt(dbsession, attempt_code: str) -> Attempt:
    """The attempt with this code, live or archived; 404 ``unknown_attempt`` otherwise."""
    attempt = dbsession.execute(select(Attempt).where(Attempt.attempt_code == attempt_code)).scalar_one_or_none()
    if attempt is None:
        raise NotFound("no attempt has this attempt code", code="unknown_attempt",
                       details={"attempt_code": attempt_code})
    return attempt


def review_of(dbsession, attempt: Attempt) -> Review | None:
    return dbsession.execute(select(Review).where(Review.attempt_code == attempt.attempt_code)).scalar_one_or_none()


def archive(attempt: Attempt) -> bool:
    """Archive (never erase) the attempt; return whether it was live."""
    if attempt.archived_at is not None:
        return False
    attempt.archived_at = utcnow()
    return True
