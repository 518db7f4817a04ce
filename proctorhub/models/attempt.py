"""Exam attempts and their lifecycle statuses (DESIGN.md section 3)."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .exam import Exam
from .meta import Base, JSONType, UTCDateTime, utcnow


class AttemptStatus(enum.StrEnum):
    created = "created"
    ready_to_start = "ready_to_start"
    started = "started"
    paused = "paused"
    submitted = "submitted"
    verified = "verified"
    rejected = "rejected"
    second_review_required = "second_review_required"
    error = "error"
    terminated = "terminated"

    @property
    def is_completed(self) -> bool:
        return self in COMPLETED_STATUSES


COMPLETED_STATUSES = frozenset(
    {
        AttemptStatus.submitted,
        AttemptStatus.verified,
        AttemptStatus.rejected,
        AttemptStatus.second_review_required,
        AttemptStatus.error,
        AttemptStatus.terminated,
    }
)


def new_attempt_code() -> str:
    # 192 bits from the OS's CSPRNG: the code is the vendor's only handle on the attempt.
    return secrets.token_urlsafe(24)


class Attempt(Base):
    __tablename__ = "attempt"
    __table_args__ = (
        # One live attempt per learner, exam and attempt number; archived ones step aside.
        Index(
            "uq_attempt_live",
            "exam_id",
            "user_id",
            "attempt_number",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
        Index("ix_attempt_user_resource", "user_id", "exam_id", "created_at"),
        # The admin's search (q): an email or a name, or the start of one, whatever its case.
        Index("ix_attempt_email_lower", func.lower(text("user_email")).label("email_lower"),
              postgresql_ops={"email_lower": "text_pattern_ops"}),
        Index("ix_attempt_name_lower", func.lower(text("user_name")).label("name_lower"),
              postgresql_ops={"name_lower": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"))
    user_id: Mapped[str] = mapped_column(String(255))
    user_name: Mapped[str | None] = mapped_column(String(255))
    user_email: Mapped[str | None] = mapped_column(String(255))
    # Sent to the tool as given_name/family_name when the LMS gave them.
    user_given_name: Mapped[str | None] = mapped_column(String(255))
    user_family_name: Mapped[str | None] = mapped_column(String(255))
    attempt_number: Mapped[int] = mapped_column(Integer)
    attempt_code: Mapped[str] = mapped_column(String(64), unique=True, default=new_attempt_code)
    external_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default=AttemptStatus.created.value)
    end_assessment_return: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_user: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The time ledger (DESIGN.md 5.3, REFERENCE.md 4.3): the total extra time granted (an ACS
    # update sets it, so a retried update changes nothing), the pauses already over, and the
    # start of the pause under way. Remaining time is computed from these, never stored.
    extra_time_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    exam: Mapped[Exam] = relationship(lazy="joined")

    @property
    def archived(self) -> bool:
        return self.archived_at is not None
