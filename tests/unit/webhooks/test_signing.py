"""Standard Webhooks signatures, checked with the ``standardwebhooks`` package (what receivers use)."""

import datetime as dt

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from proctorhub.webhooks import signing

BODY = '{"type":"review.received","timestamp":"2026-11-29T10:00:00+00:00","data":{"attempt_code":"abc"}}'


def test_the_package_verifies_our_signature():
    secret = signing.new_secret()
    headers = signing.headers("msg_1", dt.datetime.now(dt.UTC), BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == {"type": "review.received",
                                                     "timestamp": "2026-11-29T10:00:00+00:00",
                                                     "data": {"attempt_code": "abc"}}
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-signature"].startswith("v1,")


def test_secret_has_the_whsec_form_and_enough_bytes():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    import base64
    assert 24 <= len(base64.b64decode(secret[len("whsec_"):])) <= 64
    assert signing.new_secret() != secret


def test_while_rotating_both_secrets_verify_and_no_other():
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers("msg_2", dt.datetime.now(dt.UTC), BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(BODY, headers)
    assert Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def test_a_changed_body_id_or_timestamp_fails():
    secret = signing.new_secret()
    now = dt.datetime.now(dt.UTC)
    headers = signing.headers("msg_3", now, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("abc", "abd"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_4"})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-timestamp": str(int(now.timestamp()) + 1)})
