"""The outbox of what happened, for delivery to the LMS."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, UTCDateTime, utcnow


class EventKind(enum.StrEnum):
    review_received = "review.received"
    attempt_status_changed = "attempt.status_changed"
    attempt_control = "attempt.control"


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_undelivered", "delivered_at", "id"),
        Index("ix_event_attempt", "attempt_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"))
    attempt_code: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
