"""Webhook receivers of an lms, and the deliveries of events to them (DESIGN.md 5.5).

The outbox (``event``) holds what happened; the worker hands each event to every enabled receiver
of its lms whose filter takes it, as one ``delivery`` per (event, receiver), and sends it until the
receiver answers 2xx or the retry schedule runs out. Every try is kept (``delivery_try``) with the
status and the first KB of the answer, for the admin.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, JSONType, UTCDateTime, utcnow

#: The first bytes of a receiver's answer kept with each try.
RESPONSE_KEPT_BYTES = 1024


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next try (or being sent right now)
    delivered = "delivered"  # the receiver answered 2xx
    failed = "failed"  # the retry schedule ran out, or the receiver said 410 Gone


def new_webhook_id() -> str:
    # The Standard Webhooks idempotency key: random, and free of "." (it is part of the signed text).
    return "msg_" + secrets.token_urlsafe(18)


class WebhookEndpoint(Base):
    """A receiver URL of one lms, with the event types it wants and its signing secrets."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lms_id: Mapped[int] = mapped_column(ForeignKey("lms.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Event types, or ["*"] for every type.
    events: Mapped[list] = mapped_column(JSONType, default=lambda: ["*"])
    description: Mapped[str] = mapped_column(String(500), default="")
    # ``whsec_…`` secrets, encrypted at rest. While a secret rotates, messages carry a signature
    # with the previous one too, until ``previous_secret_expires_at``.
    secret: Mapped[str] = mapped_column(String(512))
    previous_secret: Mapped[str | None] = mapped_column(String(512))
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why the worker turned it off (HTTP 410, days of failures); cleared when staff enable it.
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # The first failed try since the last success: after days of failure the receiver is turned off.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def wants(self, kind: str) -> bool:
        return "*" in self.events or kind in self.events


class Delivery(Base):
    """One event for one receiver: sent until it is answered 2xx or given up."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_delivery_event_endpoint"),
        # What is due: pending deliveries by their next try.
        Index("ix_delivery_due", "next_try_at", "id", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        # In order per attempt: an earlier pending delivery to the same receiver holds the later ones back.
        Index("ix_delivery_queue", "endpoint_id", "attempt_id", "event_id", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        Index("ix_delivery_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    # The ``webhook-id`` header: the same on every try and replay, so receivers can drop repeats.
    webhook_id: Mapped[str] = mapped_column(String(64), default=new_webhook_id)
    # The exact bytes sent (signatures cover them), made once when the event is handed out.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.pending.value)
    tries: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Also the lease of a worker sending it: claiming a delivery moves this past the send's deadline.
    next_try_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # While a worker sends it: the claim's lease, until the try is recorded (then None). A replay
    # waits for it, so that the delivery is never sent twice at once.
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class DeliveryTry(Base):
    """One HTTP try of a delivery: what the receiver answered (or why there was no answer)."""

    __tablename__ = "delivery_try"
    __table_args__ = (Index("ix_delivery_try_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    # None when there was no HTTP answer (refused address, connection, timeout, protocol error).
    response_status: Mapped[int | None] = mapped_column(Integer)
    # The first RESPONSE_KEPT_BYTES of the answer, as text.
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(255))


class WorkerSchedule(Base):
    """When a periodic job of the workers (the email digest) is next due, and how far it has read:
    shared by every worker, so the job runs once per interval however many workers there are."""

    __tablename__ = "worker_schedule"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Also the lease of a worker mailing a round: claiming the round moves this past the longest
    # connecting and sending one message may take, and each recorded recipient moves it on again.
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The last outbox event the job has read.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    # The last outbox event of the round being mailed, or cut short (an SMTP connection dropped
    # partway, a worker died): its retry reads up to here and no further, so that those it already
    # mailed miss nothing newer. None while no round is unfinished.
    round_until: Mapped[int | None] = mapped_column(Integer)


class WorkerScheduleSent(Base):
    """Who the unfinished round of a job has already mailed, each committed as soon as the SMTP
    server accepted their email: the round's retry mails only the others, so no one gets a round's
    email twice. The round's end deletes them."""

    __tablename__ = "worker_schedule_sent"

    name: Mapped[str] = mapped_column(ForeignKey("worker_schedule.name", ondelete="CASCADE"), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(255), primary_key=True)
