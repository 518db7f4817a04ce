import pytest
from proctorhub_softwaresecure import SoftwareSecureBackend

from proctorhub.backends.errors import BadReviewStatus, InvalidPayload

from ...factories import softwaresecure_payload


@pytest.fixture
def backend():
    return SoftwareSecureBackend({"secret": "x"})


def test_normalises_webcam_then_desktop_comments(backend):
    review = backend.normalise(softwaresecure_payload("code-1", status="Suspicious"))
    assert review["status"] == "suspicious"
    assert [c["comment"] for c in review["comments"]] == ["Looking away", "Second person", "Browsing other websites"]
    assert review["comments"][2] == {"start": 12, "stop": 88, "duration": 76, "comment": "Browsing other websites",
                                     "status": "Suspicious"}


def test_finds_the_attempt_code_and_record_locator(backend):
    payload = softwaresecure_payload("code-1", record_locator="REC-1")
    assert backend.attempt_code(payload) == "code-1"
    assert backend.external_id(payload) == "REC-1"
    assert backend.vendor_status(payload) == "Clean"


@pytest.mark.parametrize("locator", [True, 1.5, {"id": 1}])
def test_a_record_locator_that_is_no_string_is_refused(backend, locator):
    with pytest.raises(InvalidPayload):
        backend.external_id(softwaresecure_payload("code-1", record_locator=locator))


def test_passing_statuses(backend):
    assert backend.passing_statuses == {"passed", "violation"}


def test_unknown_status(backend):
    with pytest.raises(BadReviewStatus):
        backend.normalise(softwaresecure_payload("c", status="Fine"))


def test_missing_metadata(backend):
    with pytest.raises(InvalidPayload):
        backend.attempt_code({"reviewStatus": "Clean"})


def test_comment_lists_must_be_lists(backend):
    with pytest.raises(InvalidPayload):
        backend.normalise(softwaresecure_payload("c", webCamComments="oops"))


def test_video_link_redacted(backend):
    assert backend.redact(softwaresecure_payload("c"))["videoReviewLink"] == "[redacted]"
