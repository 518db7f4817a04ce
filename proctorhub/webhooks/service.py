"""Receivers and deliveries, as the admin manages them: every check and every write is here.

The views parse, authorize and render; these functions take a session and plain values and raise
typed errors (each bad input a 4xx with its own code, before anything is written).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update

from ..admin.listing import DEFAULT_LIMIT, ListPage, id_page
from ..attempts.serialize import iso
from ..errors import Conflict, InvalidPayload, NotFound
from ..models import EventKind, utcnow
from ..models.webhook import Delivery, DeliveryStatus, DeliveryTry, WebhookEndpoint
from ..outbound import OutboundRefused, check_url
from . import signing
from .secrets import SecretBox

EVENT_TYPES = tuple(kind.value for kind in EventKind)
URL_MAX = 2048


def _refuse(code: str, message: str, **details) -> InvalidPayload:
    return InvalidPayload(message, code=code, details={"fields": {"url": message}, **details})


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_receiver_url(url, *, allow_private: bool) -> str:
    """The receiver URL as it will be stored, or a 400 whose code names what is wrong with it.

    https only (plain http only to a loopback address, and only where private addresses are
    allowed, as in development); no user name or password, no #fragment; never a private,
    loopback or link-local address (literal, or a name resolving to one) unless allowed.
    """
    if not isinstance(url, str) or not url.strip():
        raise _refuse("invalid_url", "url must be an absolute https URL")
    url = url.strip()
    if len(url) > URL_MAX or not url.isascii() or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise _refuse("invalid_url", f"url must be printable ASCII without spaces, at most {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _refuse("invalid_url", "url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse("invalid_url", "url must be an absolute https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise _refuse("url_has_credentials", "url must not carry a user name or password")
    if parts.fragment or url.endswith("#"):
        raise _refuse("url_has_fragment", "url must not have a #fragment")
    if parts.scheme == "http" and not (allow_private and _is_loopback(parts.hostname)):
        raise _refuse("url_not_https", "url must use https:// (http:// only to a loopback address in development)")
    try:
        check_url(url, allow_private=allow_private)
    except OutboundRefused as refused:
        if refused.reason == "refused_address":
            raise _refuse("private_address", "url must not point at a private, loopback or link-local address") \
                from None
        raise _refuse("invalid_url", "url is not a URL proctorhub can send to") from None
    return url


def check_event_types(events) -> list[str]:
    if events in (None, []):
        raise InvalidPayload("events must list event types, or be [\"*\"] for all",
                             details={"fields": {"events": "required"}})
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise InvalidPayload("events must be a list of event types", details={"fields": {"events": "not a list"}})
    unknown = sorted({e for e in events if e != "*" and e not in EVENT_TYPES})
    if unknown:
        raise InvalidPayload(f"unknown event type {unknown[0]!r}", code="unknown_event_type",
                             details={"unknown": unknown, "known": list(EVENT_TYPES)})
    if "*" in events:
        return ["*"]
    return list(dict.fromkeys(events))


def create_endpoint(dbsession, box: SecretBox, *, lms_id: int, url: str, events: list[str], description: str,
                    allow_private: bool) -> tuple[WebhookEndpoint, str]:
    """A new receiver and its secret (``whsec_…``, returned this once; stored encrypted)."""
    url = check_receiver_url(url, allow_private=allow_private)
    events = check_event_types(events)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(lms_id=lms_id, url=url, events=events, description=description or "",
                               secret=box.seal(secret), enabled=True)
    dbsession.add(endpoint)
    dbsession.flush()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, changes: dict, *, allow_private: bool) -> WebhookEndpoint:
    """Change some of ``url``, ``events``, ``enabled``, ``description`` (all checked before any is set)."""
    values = {}
    if "url" in changes and changes["url"] != endpoint.url:
        values["url"] = check_receiver_url(changes["url"], allow_private=allow_private)
    if "events" in changes:
        values["events"] = check_event_types(changes["events"])
    if "description" in changes:
        values["description"] = changes["description"] or ""
    if "enabled" in changes:
        values["enabled"] = changes["enabled"]
        if changes["enabled"]:
            # Turned back on by staff: the reason it was off no longer holds, and failures count afresh.
            values["disabled_reason"] = None
            values["failing_since"] = None
    for key, value in values.items():
        setattr(endpoint, key, value)
    endpoint.modified_at = utcnow()
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, box: SecretBox, *, overlap: dt.timedelta,
                  now: dt.datetime | None = None) -> str:
    """A new secret (returned once); the old one still signs beside it until the overlap ends."""
    now = now or utcnow()
    secret = signing.new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + overlap
    endpoint.secret = box.seal(secret)
    endpoint.modified_at = now
    return secret


def signing_secrets(endpoint_row, box: SecretBox, now: dt.datetime) -> list[str]:
    """The secrets a message to this receiver is signed with now: current, then previous while it lasts."""
    found = [box.open(endpoint_row.secret)]
    expires = endpoint_row.previous_secret_expires_at
    if endpoint_row.previous_secret and expires is not None and expires > now:
        found.append(box.open(endpoint_row.previous_secret))
    return found


def get_endpoint(dbsession, lms_id: int, endpoint_id: int | None) -> WebhookEndpoint:
    endpoint = dbsession.get(WebhookEndpoint, endpoint_id) if endpoint_id is not None else None
    if endpoint is None or endpoint.lms_id != lms_id:
        raise NotFound("this lms has no webhook receiver with this id", code="unknown_webhook",
                       details={"webhook_id": endpoint_id})
    return endpoint


def endpoints_of(dbsession, lms_id: int) -> list[WebhookEndpoint]:
    return list(dbsession.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.lms_id == lms_id).order_by(WebhookEndpoint.id)).scalars())


def get_delivery(dbsession, lms_id: int, delivery_id: int | None, endpoint_id: int | None = None) -> Delivery:
    """A delivery of this lms (of this receiver, if given); another lms's is as unknown as a missing one."""
    delivery = dbsession.get(Delivery, delivery_id) if delivery_id is not None else None
    if (delivery is None or delivery.endpoint.lms_id != lms_id
            or (endpoint_id is not None and delivery.endpoint_id != endpoint_id)):
        raise NotFound("this lms has no delivery with this id", code="unknown_delivery",
                       details={"delivery_id": delivery_id})
    return delivery


def deliveries_of(dbsession, lms_id: int, endpoint_id: int | None = None, *, status: str | None = None,
                  after: int | None = None, before: int | None = None, limit: int = DEFAULT_LIMIT) -> ListPage:
    """A page of the lms's deliveries (of one receiver, if given), newest first, after or before an id."""
    query = (select(Delivery).join(WebhookEndpoint, Delivery.endpoint_id == WebhookEndpoint.id)
             .where(WebhookEndpoint.lms_id == lms_id))
    if endpoint_id is not None:
        query = query.where(Delivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(Delivery.status == status)
    return id_page(dbsession, query, Delivery.id, after=after, before=before, limit=limit)


def tries_of(dbsession, delivery_ids: list[int]) -> dict[int, list[DeliveryTry]]:
    found: dict[int, list[DeliveryTry]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        rows = dbsession.execute(select(DeliveryTry).where(DeliveryTry.delivery_id.in_(delivery_ids))
                                 .order_by(DeliveryTry.id)).scalars()
        for row in rows:
            found[row.delivery_id].append(row)
    return found


def sending_until(delivery: Delivery, now: dt.datetime) -> dt.datetime | None:
    """When the worker sending ``delivery`` right now lets go of it (its claim's lease), or None
    when no worker is: as ``replay`` decides, a lease that ran out is a worker that died mid-send."""
    if delivery.leased_until is not None and delivery.leased_until > now:
        return delivery.leased_until
    return None


def replay(dbsession, delivery: Delivery, now: dt.datetime | None = None) -> Delivery:
    """Send the delivery again, with the same ``webhook-id`` and body, at the worker's next round.

    Its tries start afresh (the whole retry schedule applies again); the tries so far are kept.
    A delivery a worker is sending right now is 409 ``delivery_in_flight`` and stays as it is: it
    may be replayed once that try is recorded. One statement checks and changes it, so a worker
    that claims it meanwhile either sees the replay or makes the replay refuse."""
    now = now or utcnow()
    replayed = dbsession.execute(
        update(Delivery).where(Delivery.id == delivery.id,
                               or_(Delivery.leased_until.is_(None), Delivery.leased_until <= now))
        .values(status=DeliveryStatus.pending.value, tries=0, next_try_at=now, delivered_at=None)
        .execution_options(synchronize_session=False))
    # Read again, as the statement left it; a delivery purged meanwhile is as unknown as a missing one.
    if dbsession.get(Delivery, delivery.id, populate_existing=True) is None:
        raise NotFound("this lms has no delivery with this id", code="unknown_delivery",
                       details={"delivery_id": delivery.id})
    if replayed.rowcount != 1:
        raise Conflict(f"delivery {delivery.id} is being sent right now; replay it once this try is recorded",
                       code="delivery_in_flight",
                       details={"delivery_id": delivery.id, "leased_until": iso(delivery.leased_until)})
    return delivery
