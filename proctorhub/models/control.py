"""The Assessment Control Service's ledger: every ACS action applied to an attempt."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, UTCDateTime, utcnow


class AttemptControl(Base):
    """One ACS request as applied: the audit of pauses, extra time and terminations, the
    incidents a ``flag`` adds to the review timeline, and what makes a retried request a replay."""

    __tablename__ = "attempt_control"
    __table_args__ = (
        # A request carrying its incident_time is applied once, however often the tool retries it.
        UniqueConstraint("attempt_id", "request_key", name="uq_attempt_control_attempt_request_key"),
        Index("ix_attempt_control_attempt", "attempt_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    action: Mapped[str] = mapped_column(String(16))
    # The digest of the request's fields, always; the unique key only when it names its moment.
    request_digest: Mapped[str] = mapped_column(String(64))
    request_key: Mapped[str | None] = mapped_column(String(64))
    incident_time: Mapped[str | None] = mapped_column(String(64))
    incident_severity: Mapped[float | None] = mapped_column(Float)
    extra_time: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str | None] = mapped_column(String(255))
    reason_msg: Mapped[str | None] = mapped_column(Text)
    status_before: Mapped[str] = mapped_column(String(32))
    status_after: Mapped[str] = mapped_column(String(32))
    request: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
