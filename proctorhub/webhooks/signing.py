"""Standard Webhooks signatures: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.

The signature is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the receiver's
``whsec_`` secret, computed by the ``standardwebhooks`` package (the library we tell receivers to
verify with). While a secret rotates, the header lists a signature with each secret, separated by
a space, so a receiver holding either one accepts the message.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def headers(webhook_id: str, timestamp: dt.datetime, body: str, secrets_: list[str]) -> dict[str, str]:
    """The three headers of one try, signed with every secret in ``secrets_`` (current first)."""
    signatures = " ".join(Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets_)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
