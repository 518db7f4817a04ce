"""LTI 1.3 platform state: signing keys, launches, browser sessions, session data, the replay ledger.

All of it lives in the database so that the steps of one launch may hit different processes.
Secrets handed to browsers or tools (launch tokens, message hints, cookies, session data) are
stored only as SHA-256 digests.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import register_encrypted_column
from .attempt import Attempt
from .configuration import ToolConfiguration
from .meta import Base, JSONType, UTCDateTime, utcnow


class KeyState(enum.StrEnum):
    # Published in the JWKS but not yet signing, so that tools caching the JWKS learn it first.
    next = "next"
    active = "active"
    # Still published until retire_after, when every token it signed has expired.
    retired = "retired"


class PlatformKey(Base):
    __tablename__ = "lti_platform_key"
    __table_args__ = (Index("ix_lti_platform_key_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=KeyState.next.value)
    # The PKCS#8 PEM, encrypted with proctorhub.crypto (keys from the environment): a database
    # dump alone cannot sign id_tokens or ACS access tokens.
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retire_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class MessageType(enum.StrEnum):
    start_proctoring = "LtiStartProctoring"
    end_assessment = "LtiEndAssessment"


class Launch(Base):
    """A single-use, short-lived launch: the browser enters once, the tool authorizes once."""

    __tablename__ = "lti_launch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    message_hint_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    configuration_id: Mapped[int] = mapped_column(ForeignKey("tool_configuration.id"), index=True)
    message_type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(255))
    # Full role URIs: "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant" is 78.
    user_role: Mapped[str] = mapped_column(String(255))
    return_url: Mapped[str] = mapped_column(String(2048))
    browser_session_id: Mapped[int | None] = mapped_column(ForeignKey("lti_browser_session.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    entered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    authorized_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    attempt: Mapped[Attempt] = relationship(lazy="joined")
    configuration: Mapped[ToolConfiguration] = relationship(lazy="joined")


class BrowserSession(Base):
    """The browser that entered a launch, known by a random cookie."""

    __tablename__ = "lti_browser_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cookie_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SessionData(Base):
    """The ``session_data`` of one LtiStartProctoring: single-use, bound to browser session and attempt."""

    __tablename__ = "lti_session_data"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_session_id: Mapped[int] = mapped_column(ForeignKey("lti_browser_session.id"), index=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("lti_launch.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    launch: Mapped[Launch] = relationship(lazy="joined")
    attempt: Mapped[Attempt] = relationship(lazy="joined")


class ReplayEntry(Base):
    """A tool nonce or ``jti`` already used; kept until the token that carried it has expired."""

    __tablename__ = "lti_replay_ledger"
    __table_args__ = (
        UniqueConstraint("issuer", "kind", "value", name="uq_lti_replay_ledger_issuer_kind_value"),
        Index("ix_lti_replay_ledger_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # "nonce" or "jti"
    value: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


register_encrypted_column(PlatformKey.__table__.c.private_key_encrypted)
