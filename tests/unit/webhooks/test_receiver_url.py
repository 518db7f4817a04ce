"""Receiver URLs: https, no credentials or fragment, no private address unless allowed."""

import pytest

from proctorhub.errors import InvalidPayload
from proctorhub.webhooks.service import check_event_types, check_receiver_url


@pytest.mark.parametrize("url, code", [
    ("http://lms.example.edu/hooks", "url_not_https"),
    ("ftp://lms.example.edu/hooks", "invalid_url"),
    ("https:///hooks", "invalid_url"),
    ("not a url", "invalid_url"),
    ("https://lms.example.edu:99999/hooks", "invalid_url"),
    ("https://user:pw@lms.example.edu/hooks", "url_has_credentials"),
    ("https://user@lms.example.edu/hooks", "url_has_credentials"),
    ("https://lms.example.edu/hooks#part", "url_has_fragment"),
    ("https://10.1.2.3/hooks", "private_address"),
    ("https://192.168.0.10/hooks", "private_address"),
    ("https://169.254.169.254/latest/meta-data", "private_address"),
    ("https://127.0.0.1/hooks", "private_address"),
    ("https://[::1]/hooks", "private_address"),
    ("https://[::ffff:10.0.0.1]/hooks", "private_address"),
    ("https://localhost/hooks", "private_address"),
    ("http://127.0.0.1:8000/hooks", "url_not_https"),
])
def test_refused_without_private_addresses(url, code):
    with pytest.raises(InvalidPayload) as refused:
        check_receiver_url(url, allow_private=False)
    assert refused.value.code == code


def test_public_https_is_accepted():
    assert check_receiver_url(" https://93.184.216.34/hooks?lms=1 ", allow_private=False) == \
        "https://93.184.216.34/hooks?lms=1"


def test_development_allows_http_to_loopback_only():
    assert check_receiver_url("http://127.0.0.1:8000/hooks", allow_private=True)
    assert check_receiver_url("http://localhost:8000/hooks", allow_private=True)
    with pytest.raises(InvalidPayload) as refused:
        check_receiver_url("http://10.0.0.1/hooks", allow_private=True)
    assert refused.value.code == "url_not_https"


def test_event_types():
    assert check_event_types(["*"]) == ["*"]
    assert check_event_types(["review.received", "*"]) == ["*"]
    assert check_event_types(["review.received", "review.received", "attempt.control"]) == \
        ["review.received", "attempt.control"]
    for bad in (["review.recieved"], ["attempt.*"]):
        with pytest.raises(InvalidPayload) as refused:
            check_event_types(bad)
        assert refused.value.code == "unknown_event_type"
    with pytest.raises(InvalidPayload):
        check_event_types([])
