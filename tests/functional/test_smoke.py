from sqlalchemy import select

from proctorhub.models import Attempt, Review

from .. import factories as f


def test_signed_softwaresecure_review_settles_attempt(testapp, dbsession):
    lms = f.token(dbsession)
    created = testapp.post_json("/api/v1/attempts", {
        "user": {"id": "u1"}, "resource_link": {"id": "rl1"}, "context": {"id": "c1"},
        "attempt_number": 1, "external_id": "SSI-RECORD-1", "backend": "softwaresecure",
    }, headers=f.auth(lms), status=201).json
    code = created["attempt_code"]
    body, headers = f.signed("softwaresecure", f.softwaresecure_payload(code, record_locator="ssi-record-1"))
    answer = testapp.post("/api/v1/reviews/softwaresecure", body, headers=headers, status=200).json
    assert answer["status"] == "passed"
    assert [c["comment"] for c in answer["comments"]] == ["Looking away", "Second person", "Browsing other websites"]
    dbsession.expire_all()
    review = dbsession.execute(select(Review)).scalar_one()
    assert review.raw_payload["videoReviewLink"] == "[redacted]"
    assert dbsession.execute(select(Attempt)).scalar_one().status == "verified"
