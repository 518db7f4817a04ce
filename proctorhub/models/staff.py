"""Staff users and API tokens: the people and programs that call proctorhub."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .lms import Lms
from .meta import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    admin = "admin"
    reviewer = "reviewer"
    lms = "lms"


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # An admin who asked for the email digest of reviews that need attention (reviewers get their
    # courses' digest anyway).
    email_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every signed session cookie carries the generation it was issued in: sign-out, a password
    # change and ``staff disable`` bump it, and every cookie issued before stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A disabled user cannot sign in, and neither their sessions nor their API tokens count.
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # The courses a reviewer may see; admins see everything.
    courses: Mapped[list[StaffCourse]] = relationship(
        back_populates="staff_user", cascade="all, delete-orphan",
        order_by="(StaffCourse.lms_id, StaffCourse.context_id)")


class StaffCourse(Base):
    """One course a reviewer may see: a context id within one lms (the same id in another lms is
    another course)."""

    __tablename__ = "staff_course"
    # Who reviews this course (e.g. to tell them when its reviews need attention).
    __table_args__ = (Index("ix_staff_course_lms_context", "lms_id", "context_id"),)

    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    lms_id: Mapped[int] = mapped_column(ForeignKey("lms.id"), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)

    staff_user: Mapped[StaffUser] = relationship(back_populates="courses")
    lms: Mapped[Lms] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # An ``lms`` token belongs to exactly one lms; admin and reviewer tokens to none.
    lms_id: Mapped[int | None] = mapped_column(ForeignKey("lms.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    staff_user: Mapped[StaffUser | None] = relationship(lazy="joined")
    lms: Mapped[Lms | None] = relationship()
