"""The audit trail of staff actions: who changed which object, when, from what to what."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, JSONType, UTCDateTime, utcnow
from .staff import StaffUser


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The staff user behind the action (a session, or a token linked to a staff user).
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Who acted, as shown: "staff:<email>" or "token:<name>"; kept even if the user is removed.
    actor: Mapped[str] = mapped_column(String(255))
    # "review", "configuration", "exam".
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    # "create", "update", "second_review".
    action: Mapped[str] = mapped_column(String(32))
    # {field: [old, new]}.
    changes: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff_user: Mapped[StaffUser | None] = relationship(lazy="joined")
