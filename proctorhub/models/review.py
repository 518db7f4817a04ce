"""Vendor reviews, their incident comments, and the history of every update."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .attempt import Attempt
from .meta import Base, JSONType, UTCDateTime, utcnow
from .staff import StaffUser


class ReviewStatus(enum.StrEnum):
    passed = "passed"
    violation = "violation"
    suspicious = "suspicious"
    not_reviewed = "not_reviewed"


class QueuePriority(enum.IntEnum):
    """Order of the staff review queue: lower comes first."""

    second_review_required = 0
    suspicious = 1
    other = 2


# How bad a review's status is, worst first: the queue's severity order (ix_review_status serves it,
# one status at a time).
SEVERITY_RANK = {ReviewStatus.violation: 0, ReviewStatus.suspicious: 1, ReviewStatus.not_reviewed: 2,
                 ReviewStatus.passed: 3}


class Review(Base):
    __tablename__ = "review"
    __table_args__ = (
        Index("ix_review_queue", "queue_priority", "id"),
        Index("ix_review_context_queue", "context_id", "queue_priority", "id"),
        Index("ix_review_status", "status", "id"),
        # The queue sorted by course, and its "decided today".
        Index("ix_review_context_id", "context_id", "id"),
        Index("ix_review_decided", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique: two identical callbacks racing each other can store only one review.
    attempt_code: Mapped[str] = mapped_column(String(64), unique=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    # Copied from the exam at creation so that the queue filters without joins.
    exam_id: Mapped[int] = mapped_column(ForeignKey("exam.id"), index=True)
    context_id: Mapped[str] = mapped_column(String(255), default="")
    backend: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    vendor_status: Mapped[str] = mapped_column(String(255))
    raw_payload: Mapped[dict] = mapped_column(JSONType)
    payload_digest: Mapped[str] = mapped_column(String(64))
    # The vendor signature's timestamp of the callback stored last (None: unsigned): an update
    # signed before it is refused, so an earlier callback resent cannot revert the review.
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The vendor's ``reviewed_by`` as it came, when it named no staff user who may review this
    # attempt's course: kept as text, counted as no reviewer (DESIGN.md 3).
    vendor_reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    note: Mapped[str | None] = mapped_column(Text)
    queue_priority: Mapped[int] = mapped_column(SmallInteger, default=QueuePriority.other)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When staff last decided it (a second review); the queue's "decided today".
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A reviewer who took the review, so that two do not decide it at once (until claimed_at + TTL).
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The vendor's video link (SoftwareSecure's videoReviewLink), encrypted with proctorhub.crypto.
    video_link_encrypted: Mapped[str | None] = mapped_column(Text)

    attempt: Mapped[Attempt] = relationship(lazy="joined")
    reviewer: Mapped[StaffUser | None] = relationship(lazy="joined", foreign_keys=[reviewer_id])
    claimed_by: Mapped[StaffUser | None] = relationship(lazy="joined", foreign_keys=[claimed_by_id])
    comments: Mapped[list[ReviewComment]] = relationship(
        back_populates="review",
        order_by="ReviewComment.position",
        cascade="all, delete-orphan",
    )
    history: Mapped[list[ReviewHistory]] = relationship(
        back_populates="review", order_by="ReviewHistory.id", cascade="all, delete-orphan"
    )


class ReviewComment(Base):
    __tablename__ = "review_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    start: Mapped[int] = mapped_column(Integer)
    stop: Mapped[int] = mapped_column(Integer)
    duration: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(64))

    review: Mapped[Review] = relationship(back_populates="comments")


class ReviewHistory(Base):
    """The state a review had before one update (one row per update, newest last)."""

    __tablename__ = "review_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    vendor_status: Mapped[str] = mapped_column(String(255))
    raw_payload: Mapped[dict] = mapped_column(JSONType)
    comments: Mapped[list] = mapped_column(JSONType)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # What else an overwrite replaces (an ACS terminate clears them all): kept here, not lost.
    backend: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    vendor_reviewed_by: Mapped[str | None] = mapped_column(String(255))
    video_link_encrypted: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Who caused the update that replaced this state: "vendor:<backend>" or "staff:<email>".
    replaced_by: Mapped[str] = mapped_column(String(255))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[Review] = relationship(back_populates="history")
    reviewer: Mapped[StaffUser | None] = relationship(lazy="joined")
