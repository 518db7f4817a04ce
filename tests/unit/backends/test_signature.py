import pytest

from proctorhub.backends import ReviewBackend, sign
from proctorhub.backends.errors import AuthenticationFailed, MissingSignature, SignatureExpired


class Plain(ReviewBackend):
    name = "plain"

    def attempt_code(self, payload):
        return payload["code"]

    def normalise(self, payload):
        return {"status": "passed"}


NOW = 1_800_000_000
BODY = b'{"code": "abc"}'


def backend(**options):
    return Plain({"secret": "s3cret", **options}, signature_window_seconds=300)


def test_a_correct_signature_passes():
    backend().authenticate({"X-Proctorhub-Signature": sign("s3cret", NOW, BODY)}, BODY, now=NOW)


def test_any_of_several_v1_values_may_match_during_secret_rotation():
    good = sign("s3cret", NOW, BODY).split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{good}"
    backend().authenticate({"X-Proctorhub-Signature": header}, BODY, now=NOW)


@pytest.mark.parametrize("skew", [-300, 300])
def test_the_window_edges_are_inside(skew):
    backend().authenticate({"X-Proctorhub-Signature": sign("s3cret", NOW + skew, BODY)}, BODY, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_outside_the_window_is_refused(skew):
    with pytest.raises(SignatureExpired):
        backend().authenticate({"X-Proctorhub-Signature": sign("s3cret", NOW + skew, BODY)}, BODY, now=NOW)


def test_the_timestamp_and_body_without_separator_are_accepted_too():
    import hashlib
    import hmac

    digest = hmac.new(b"s3cret", f"{NOW}".encode() + BODY, hashlib.sha256).hexdigest()
    backend().authenticate({"X-Proctorhub-Signature": f"t={NOW},v1={digest}"}, BODY, now=NOW)
    with pytest.raises(AuthenticationFailed):
        wrong = hmac.new(b"other", f"{NOW}".encode() + BODY, hashlib.sha256).hexdigest()
        backend().authenticate({"X-Proctorhub-Signature": f"t={NOW},v1={wrong}"}, BODY, now=NOW)


def test_the_timestamp_is_part_of_what_is_signed():
    header = sign("s3cret", NOW, BODY).replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(AuthenticationFailed) as failure:
        backend().authenticate({"X-Proctorhub-Signature": header}, BODY, now=NOW)
    assert failure.value.code == "bad_signature"


def test_a_non_ascii_v1_value_is_no_signature():
    # hmac.compare_digest raises TypeError on non-ASCII text; such a value must be a refusal, not a 500.
    with pytest.raises(AuthenticationFailed) as failure:
        backend().authenticate({"X-Proctorhub-Signature": f"t={NOW},v1=\xe9\xe9"}, BODY, now=NOW)
    assert failure.value.code == "bad_signature"
    good = sign("s3cret", NOW, BODY).split(",")[1]
    backend().authenticate({"X-Proctorhub-Signature": f"t={NOW},v1=caf\xe9,{good}"}, BODY, now=NOW)


@pytest.mark.parametrize("timestamp", ["9" * 400, "-5", "1e9"])
def test_a_timestamp_that_is_no_unix_seconds_is_refused(timestamp):
    # 400 digits used to overflow the comparison with the float clock: a 500.
    with pytest.raises(AuthenticationFailed) as failure:
        backend().authenticate({"X-Proctorhub-Signature": f"t={timestamp},v1={'0' * 64}"}, BODY, now=NOW)
    assert failure.value.code == "bad_signature"


def test_missing_header():
    with pytest.raises(MissingSignature):
        backend().authenticate({}, BODY, now=NOW)


def test_startup_needs_a_secret():
    with pytest.raises(ValueError, match="secret"):
        Plain({}).check_startup()


def test_redaction_follows_dotted_paths_through_lists():
    class Redacting(Plain):
        redacted_fields = ("video", "sessions.link", "meta.deep.token")

    payload = {"video": "https://v", "sessions": [{"link": "a", "n": 1}, {"link": "b"}],
               "meta": {"deep": {"token": "t", "keep": 1}}, "other": "x"}
    redacted = Redacting({"secret": "x"}).redact(payload)
    assert redacted == {"video": "[redacted]", "sessions": [{"link": "[redacted]", "n": 1}, {"link": "[redacted]"}],
                        "meta": {"deep": {"token": "[redacted]", "keep": 1}}, "other": "x"}
    assert payload["video"] == "https://v"  # the original is untouched
