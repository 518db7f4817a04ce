"""Sending deliveries: claim the due ones, send them, record what the receivers answered.

- **Claim** (one short transaction): pending deliveries that are due, whose receiver is enabled,
  and that no earlier pending delivery of the same attempt to the same receiver holds back (in
  order per attempt). On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets any number of workers claim
  side by side without taking the same row; claiming moves ``next_try_at`` past the send's
  deadline (a lease, also kept as ``leased_until``), so the row is no one else's while it is sent,
  and a replay from the admin is refused meanwhile. A worker killed mid-send loses nothing: when
  the lease runs out the delivery is due again (at least once, same ``webhook-id``).
- **Send** (no transaction open): through ``proctorhub.outbound`` (one deadline for the whole
  exchange, no redirects, private addresses refused unless allowed, the answer capped at its
  first KB), several at a time.
- **Record** (one short transaction): each try with its status and the first KB of the answer;
  2xx delivers; 410 Gone fails the delivery and turns the receiver off; anything else is tried
  again after the next wait of the schedule (with jitter), until the schedule runs out. A receiver
  that has failed without a success for ``disable_after`` is turned off, with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, case, exists, func, insert, literal_column, select, update
from sqlalchemy.orm import aliased

from ..models.webhook import RESPONSE_KEPT_BYTES, Delivery, DeliveryStatus, DeliveryTry, WebhookEndpoint
from ..outbound import OutboundError
from . import signing
from .service import signing_secrets

log = logging.getLogger(__name__)

delivery_t = Delivery.__table__
endpoint_t = WebhookEndpoint.__table__
try_t = DeliveryTry.__table__
# Retry-After is honoured up to this long.
RETRY_AFTER_MAX = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery with what its send needs."""

    delivery_id: int
    endpoint_id: int
    url: str
    webhook_id: str
    body: str
    secrets: tuple[str, ...]
    tries: int
    # The claim's lease: its try, once recorded, ends this lease and no later claim's.
    lease_until: dt.datetime


@dataclass(frozen=True)
class TryResult:
    outgoing: Outgoing
    started_at: dt.datetime
    duration_ms: int
    status: int | None = None
    body: str | None = None
    error: str | None = None
    retry_after: dt.timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# Written into the SQL, not bound: the partial indexes (WHERE status = 'pending') then serve the
# claim even once the driver prepares the statement with a generic plan.
PENDING = literal_column("'pending'")


def waiting(*columns, now: dt.datetime):
    """``columns`` of the deliveries that are due (pending, their time come, to an enabled receiver):
    what the worker sends next, and what the delivery metrics count."""
    return (select(*columns).join(WebhookEndpoint, Delivery.endpoint_id == WebhookEndpoint.id)
            .where(Delivery.status == PENDING, Delivery.next_try_at <= now, WebhookEndpoint.enabled.is_(True)))


def _due(now: dt.datetime):
    """The due deliveries that may go now: none waits for an earlier one of its attempt to the same receiver."""
    earlier = aliased(Delivery)
    held_back = exists().where(earlier.status == PENDING,
                               earlier.endpoint_id == Delivery.endpoint_id,
                               earlier.attempt_id == Delivery.attempt_id,
                               earlier.event_id < Delivery.event_id)
    return waiting(Delivery.id, now=now).where(~held_back)


def claim(session, box, *, now: dt.datetime, limit: int, lease_until: dt.datetime) -> list[Outgoing]:
    """Up to ``limit`` due deliveries, leased to this worker until ``lease_until``.

    One statement: ``WITH due AS (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) UPDATE delivery ...
    FROM due RETURNING ...``. The update repeats the due check, so that where there are no row
    locks (SQLite) a row another worker has just claimed is not taken again."""
    due = (_due(now).order_by(Delivery.next_try_at, Delivery.id).limit(limit)
           .with_for_update(skip_locked=True, of=Delivery)).cte("due")
    claimed = session.execute(
        update(delivery_t).where(delivery_t.c.id == due.c.id, delivery_t.c.status == PENDING,
                                 delivery_t.c.next_try_at <= now)
        .values(next_try_at=lease_until, leased_until=lease_until)
        .returning(delivery_t.c.id, delivery_t.c.endpoint_id, delivery_t.c.event_id, delivery_t.c.webhook_id,
                   delivery_t.c.body, delivery_t.c.tries)).all()
    if not claimed:
        return []
    endpoints = {row.id: row for row in session.execute(
        select(endpoint_t.c.id, endpoint_t.c.url, endpoint_t.c.secret, endpoint_t.c.previous_secret,
               endpoint_t.c.previous_secret_expires_at)
        .where(endpoint_t.c.id.in_({row.endpoint_id for row in claimed})))}
    # Decrypted once per receiver, not once per delivery.
    secrets = {endpoint_id: tuple(signing_secrets(row, box, now)) for endpoint_id, row in endpoints.items()}
    return [Outgoing(delivery_id=row.id, endpoint_id=row.endpoint_id, url=endpoints[row.endpoint_id].url,
                     webhook_id=row.webhook_id, body=row.body, secrets=secrets[row.endpoint_id], tries=row.tries,
                     lease_until=lease_until)
            for row in sorted(claimed, key=lambda row: row.event_id)]


def _retry_after(headers: dict) -> dt.timedelta | None:
    value = headers.get("retry-after", "").strip()
    if value.isdigit() and len(value) < 9:
        return min(dt.timedelta(seconds=int(value)), RETRY_AFTER_MAX)
    return None


def send(fetcher, outgoing: Outgoing, *, timeout: float) -> TryResult:
    """One try: POST the body, signed now; never raises."""
    started = dt.datetime.now(dt.UTC)
    began = time.monotonic()
    # The signature's timestamp is the wall clock of the try (receivers check it against theirs).
    headers = {"Content-Type": "application/json",
               **signing.headers(outgoing.webhook_id, started, outgoing.body, list(outgoing.secrets))}
    try:
        response = fetcher.request("POST", outgoing.url, headers=headers, body=outgoing.body.encode("utf-8"),
                                   timeout=timeout, max_response_bytes=RESPONSE_KEPT_BYTES, truncate=True)
    except OutboundError as error:
        return TryResult(outgoing, started, _ms(began), error=f"no answer: {error.reason}")
    except Exception as error:  # a bug here must not stop the worker: logged, and tried again later
        log.exception("webhook delivery %s: unexpected error", outgoing.delivery_id)
        return TryResult(outgoing, started, _ms(began), error=f"internal error: {type(error).__name__}")
    body = response.body.decode("utf-8", "replace")
    error = None if response.ok else (
        f"HTTP {response.status} (redirects are not followed)" if 300 <= response.status < 400
        else f"HTTP {response.status}")
    return TryResult(outgoing, started, _ms(began), status=response.status, body=body, error=error,
                     retry_after=_retry_after(response.headers) if response.status in (429, 503) else None)


def _ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)


def next_wait(schedule, tries: int, retry_after: dt.timedelta | None = None) -> dt.timedelta | None:
    """The wait after the ``tries``-th failed try, with jitter (±20 %), or None when the schedule is spent."""
    if tries > len(schedule):
        return None
    wait = schedule[tries - 1] * random.uniform(0.8, 1.2)
    if retry_after is not None and retry_after > wait:
        wait = retry_after
    return wait


def record(session, results: list[TryResult], *, now: dt.datetime, schedule, disable_after: dt.timedelta) -> None:
    """Store the tries and move each delivery (and its receiver) on, in the caller's transaction."""
    if not results:
        return
    session.execute(insert(try_t), [
        {"delivery_id": r.outgoing.delivery_id, "started_at": r.started_at, "duration_ms": r.duration_ms,
         "response_status": r.status, "response_body": r.body, "error": r.error} for r in results])
    delivered, retried, failed = [], [], []
    gone: dict[int, str] = {}
    for r in results:
        tries = r.outgoing.tries + 1
        values = {"d_id": r.outgoing.delivery_id, "d_last_status": r.status,
                  "d_last_error": r.error, "d_lease": r.outgoing.lease_until}
        if r.ok:
            delivered.append(values)
        elif r.status == 410:
            failed.append(values)
            gone[r.outgoing.endpoint_id] = f"the receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC"
        else:
            wait = next_wait(schedule, tries, r.retry_after)
            if wait is None:
                failed.append(values)
            else:
                retried.append({**values, "d_next": now + wait})
    columns = {"tries": delivery_t.c.tries + 1, "last_status": bindparam("d_last_status"),
               "last_error": bindparam("d_last_error"), "leased_until": _ends_lease(bindparam("d_lease"))}
    this_row = delivery_t.c.id == bindparam("d_id")
    by_answer: dict[tuple, list[int]] = {}
    for values in delivered:
        by_answer.setdefault((values["d_last_status"], values["d_lease"]), []).append(values["d_id"])
    for (status, lease), ids in by_answer.items():
        # One statement per answer status and claim (nearly always one): one round trip.
        session.execute(update(delivery_t).where(delivery_t.c.id.in_(ids)).values(
            status=DeliveryStatus.delivered.value, delivered_at=now, tries=delivery_t.c.tries + 1,
            last_status=status, last_error=None, leased_until=_ends_lease(lease)))
    # (The batch UPDATE above counts in SQL; the per-row ones below do too, so a delivery sent
    # twice, by a lease that ran out, still counts every try.)
    if retried:
        session.connection().execute(update(delivery_t).where(this_row).values(
            next_try_at=bindparam("d_next"), **columns), retried)
    if failed:
        session.connection().execute(update(delivery_t).where(this_row).values(
            status=DeliveryStatus.failed.value, **columns), failed)
    _update_endpoints(session, results, gone, now=now, disable_after=disable_after)


def _ends_lease(lease):
    """``leased_until`` once a try is recorded: cleared if it is still this claim's lease; kept if
    the lease ran out and another worker has claimed the delivery since (it is sending it now, and
    a replay must still wait for it)."""
    return case((delivery_t.c.leased_until == lease, None), else_=delivery_t.c.leased_until)


def _update_endpoints(session, results, gone: dict[int, str], *, now, disable_after) -> None:
    succeeded = {r.outgoing.endpoint_id for r in results if r.ok}
    failing = {r.outgoing.endpoint_id for r in results if not r.ok} - succeeded
    if succeeded:
        session.execute(update(endpoint_t).where(endpoint_t.c.id.in_(succeeded),
                                                 endpoint_t.c.failing_since.is_not(None)).values(failing_since=None))
    if failing:
        session.execute(update(endpoint_t).where(endpoint_t.c.id.in_(failing)).values(
            failing_since=func.coalesce(endpoint_t.c.failing_since, now)))
        cutoff = now - disable_after
        hours = disable_after.total_seconds() / 3600
        session.execute(update(endpoint_t).where(
            endpoint_t.c.id.in_(failing), endpoint_t.c.enabled.is_(True), endpoint_t.c.failing_since <= cutoff,
        ).values(enabled=False, modified_at=now,
                 disabled_reason=f"every try failed for {hours:g} hours (no success since the first failure)"))
    for endpoint_id, reason in gone.items():
        session.execute(update(endpoint_t).where(endpoint_t.c.id == endpoint_id).values(
            enabled=False, disabled_reason=reason, modified_at=now))
