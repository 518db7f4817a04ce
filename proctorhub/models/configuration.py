"""Tool configurations: one LTI tool registration each."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import Boolean, Float, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, JSONType, UTCDateTime, utcnow


def new_client_id() -> str:
    return secrets.token_urlsafe(24)


# The Assessment Control Service actions a configuration may offer its tool.
ACS_ACTIONS = ("pause", "resume", "terminate", "update", "flag")


def target_link_uri(message_type: str, launch_url: str | None, end_assessment_url: str | None) -> str | None:
    """The tool's URL for a message: ``end_assessment_url`` for LtiEndAssessment when it has one."""
    if message_type == "LtiEndAssessment" and end_assessment_url:
        return end_assessment_url
    return launch_url


class ConfigurationStatus(enum.StrEnum):
    # Launches allowed. Every configuration an admin makes by hand starts here.
    active = "active"
    # Made by a tool through LTI Dynamic Registration: no launch until an admin approves it.
    pending = "pending"
    # An admin refused the registration; kept (with its client_id) for the audit trail.
    rejected = "rejected"


class ToolConfiguration(Base):
    __tablename__ = "tool_configuration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Issued by proctorhub, never chosen by the tool.
    client_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_client_id)
    deployment_id: Mapped[str] = mapped_column(String(255), default="1")
    oidc_login_url: Mapped[str | None] = mapped_column(String(2048))
    launch_url: Mapped[str | None] = mapped_column(String(2048))
    # Where LtiEndAssessment launches go when the tool registered another URL for them than launch_url.
    end_assessment_url: Mapped[str | None] = mapped_column(String(2048))
    # Exact strings; a redirect_uri is accepted only when equal to one of them.
    redirect_uris: Mapped[list] = mapped_column(JSONType, default=list)
    jwks_url: Mapped[str | None] = mapped_column(String(2048))
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    proctoring_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    acs_actions: Mapped[list] = mapped_column(JSONType, default=list)
    backend: Mapped[str | None] = mapped_column(String(64))
    # Tools that review through ACS (Proctorio as edx-exams integrates it): a terminate whose
    # reason_code is one of these settles the attempt like a review, suspicious above the threshold.
    acs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    acs_severity_threshold: Mapped[float] = mapped_column(Float, default=0.25, server_default="0.25")
    acs_submitted_reason_codes: Mapped[list] = mapped_column(JSONType, default=list)
    # LTI custom parameters sent in every launch, with $User.id and the like substituted.
    custom: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ConfigurationStatus.active.value,
                                        server_default=ConfigurationStatus.active.value)
    # What the tool asked for when it registered itself (client metadata and its LTI tool
    # configuration: messages, scopes, URLs, names), as approved; null for hand-made configurations.
    registration: Mapped[dict | None] = mapped_column(JSONType)
    # A later registration of the same tool, waiting for approval: the configuration's new values
    # and the new ``registration``. The live values stay in force until an admin approves.
    pending_update: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
