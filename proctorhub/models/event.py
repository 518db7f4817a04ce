"""The outbox of what happened, for delivery to the LMS."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, UTCDateTime, utcnow


class EventKind(enum.StrEnum):
    """The event types of DESIGN.md 5.5 (also the ``type`` a webhook receiver gets)."""

    attempt_status_changed = "attempt.status_changed"
    review_received = "review.received"
    # The attempt went to second_review_required or error: staff must look at it.
    review_needs_attention = "review.needs_attention"
    # A staff second review decided the review.
    review_decided = "review.decided"
    # An ACS action of the proctoring tool (pause, resume, terminate, update, flag).
    attempt_control = "attempt.control"


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_undelivered", "delivered_at", "id"),
        Index("ix_event_attempt", "attempt_id", "id"),
        # The email digest's events (alembic 0011); no other event is written into it.
        Index("ix_event_needs_attention", "id", sqlite_where=text("kind = 'review.needs_attention'"),
              postgresql_where=text("kind = 'review.needs_attention'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"))
    attempt_code: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the worker handed the event to the lms's webhook receivers (as deliveries); NULL until then.
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
