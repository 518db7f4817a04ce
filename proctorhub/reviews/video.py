"""The vendor's video link: kept encrypted (``proctorhub.crypto``), opened only for staff pages.

A backend says where a payload carries its video link (``ReviewBackend.video_link``); the link is
redacted from the stored raw payload like any other secret field, and kept beside the review as a
token in ``review.video_link_encrypted``. It never reaches the LMS API, the logs, the raw-payload
view or the queue; the review's admin page (and its admin JSON) decrypts it for staff who may see
that review.
"""

from __future__ import annotations

import logging

import zope.sqlalchemy
from sqlalchemy import update

from ..crypto import DecryptionError, register_encrypted_column
from ..models import Review

log = logging.getLogger(__name__)

register_encrypted_column(Review.__table__.c.video_link_encrypted)


def store_video_link(request, backend, payload, stored) -> None:
    """Encrypt and keep the payload's video link on the review just stored (or clear an old one)."""
    if stored.outcome == "unchanged":
        return
    link = backend.video_link(payload)
    if link is None and stored.outcome == "created":
        return
    token = request.encryptor.encrypt(link) if link is not None else None
    request.dbsession.execute(update(Review).where(Review.id == stored.review.id)
                              .values(video_link_encrypted=token))
    zope.sqlalchemy.mark_changed(request.dbsession)


def video_link(request, review) -> str | None:
    """The clear link for a staff page; ``None`` if there is none or no configured key opens it."""
    token = review.video_link_encrypted
    if not token:
        return None
    try:
        return request.encryptor.decrypt_text(token)
    except DecryptionError:
        # Named by review id only: the token and the link stay out of the log.
        log.warning("review %s: its video link opens with none of the configured encryption keys", review.id)
        return None
