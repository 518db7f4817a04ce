"""The vendor's video link: kept encrypted (``proctorhub.crypto``), opened only for staff pages.

A backend says where a payload carries its video link (``ReviewBackend.video_link``); the link is
redacted from the stored raw payload like any other secret field, and kept beside the review as a
token in ``review.video_link_encrypted``. It never reaches the LMS API, the logs, the raw-payload
view or the queue; the review's admin page (and its admin JSON) decrypts it for staff who may see
that review.
"""

from __future__ import annotations

import logging

from ..crypto import DecryptionError, register_encrypted_column
from ..models import Review, ReviewHistory

log = logging.getLogger(__name__)

register_encrypted_column(Review.__table__.c.video_link_encrypted)
# A review's former links, kept in its history, move to a new key with it.
register_encrypted_column(ReviewHistory.__table__.c.video_link_encrypted)


def encrypted_video_link(request, backend, payload) -> str | None:
    """The payload's video link, encrypted for ``review.video_link_encrypted`` (written with the
    review itself, so a callback costs no extra statement); None when the payload has none."""
    link = backend.video_link(payload)
    return request.encryptor.encrypt(link) if link is not None else None


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
