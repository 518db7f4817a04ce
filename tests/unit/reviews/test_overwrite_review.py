"""``overwrite_review``: the one overwrite of a stored review, shared by a vendor's update and an
ACS terminate; the history row keeps what the review said before."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from proctorhub.models import Review, ReviewComment, ReviewHistory
from proctorhub.reviews.service import overwrite_review

from ... import factories as f

T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def comment(position, text):
    return ReviewComment(position=position, start=position, stop=position + 5, duration=5, comment=text,
                         status="suspicious")


def stored_review(dbsession) -> Review:
    attempt = f.attempt(dbsession)
    staff = f.staff(dbsession, email="staff@example.edu")
    review = Review(attempt_code=attempt.attempt_code, attempt_id=attempt.id, exam_id=attempt.exam_id,
                    context_id="course-1", backend="rest", status="suspicious", vendor_status="Suspicious",
                    raw_payload={"first": True}, payload_digest="1" * 64, signed_at=T0, reviewer=staff,
                    vendor_reviewed_by="someone@vendor.test", video_link_encrypted="sealed", note="seen",
                    decided_at=T0, comments=[comment(0, "Phone visible"), comment(1, "Second person")],
                    created_at=T0, modified_at=T0)
    dbsession.add(review)
    dbsession.commit()
    return review


def overwrite(dbsession, review, **changes):
    values = {"replaced_by": "vendor:rest", "backend": "rest", "status": "passed", "vendor_status": "Clean",
              "raw_payload": {"second": True}, "digest": "2" * 64, "comments": [comment(0, "All clear")],
              "signed_at": T0 + dt.timedelta(minutes=5), "video_link_encrypted": None, "reviewer": None,
              "vendor_reviewed_by": None, **changes}
    overwrite_review(dbsession, review, **values)
    dbsession.commit()
    dbsession.expire_all()
    return dbsession.get(Review, review.id)


def test_the_review_says_only_what_the_newer_one_says(dbsession):
    review = overwrite(dbsession, stored_review(dbsession))
    assert (review.backend, review.status, review.vendor_status, review.raw_payload, review.payload_digest) == (
        "rest", "passed", "Clean", {"second": True}, "2" * 64)
    assert review.signed_at == T0 + dt.timedelta(minutes=5)
    assert (review.video_link_encrypted, review.reviewer_id, review.vendor_reviewed_by, review.note) == (
        None, None, None, None)
    # The staff decision was on the review replaced: the queue no longer counts it decided.
    assert review.decided_at is None
    assert [c.comment for c in review.comments] == ["All clear"]
    assert dbsession.execute(select(ReviewComment.comment)).scalars().all() == ["All clear"]
    assert review.modified_at > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # the column's update default


def test_the_history_row_keeps_what_it_said_before(dbsession):
    review = stored_review(dbsession)
    staff_id = review.reviewer_id
    overwrite(dbsession, review, replaced_by="acs:terminate", backend="acs", signed_at=None,
              modified_at=T0 + dt.timedelta(hours=1))
    [history] = dbsession.execute(select(ReviewHistory)).scalars()
    assert (history.review_id, history.replaced_by, history.valid_from) == (review.id, "acs:terminate", T0)
    assert (history.status, history.vendor_status, history.raw_payload) == ("suspicious", "Suspicious",
                                                                           {"first": True})
    assert (history.reviewer_id, history.note) == (staff_id, "seen")
    # Everything the overwrite cleared is kept, the vendor's encrypted video link among it.
    assert (history.backend, history.signed_at, history.vendor_reviewed_by, history.video_link_encrypted,
            history.decided_at) == ("rest", T0, "someone@vendor.test", "sealed", T0)
    assert [c["comment"] for c in history.comments] == ["Phone visible", "Second person"]
    review = dbsession.get(Review, review.id)
    assert (review.backend, review.signed_at, review.modified_at) == ("acs", None, T0 + dt.timedelta(hours=1))


def test_a_review_not_stored_yet_has_no_history(dbsession):
    attempt = f.attempt(dbsession)
    review = Review(attempt_code=attempt.attempt_code, attempt_id=attempt.id, exam_id=attempt.exam_id,
                    context_id="course-1", backend="acs", created_at=T0)
    overwrite_review(dbsession, review, replaced_by=None, backend="acs", status="passed",
                     vendor_status="terminate 1, severity 0.1", raw_payload={"action": "terminate"}, digest="3" * 64,
                     comments=[comment(0, "looked away")], signed_at=None, video_link_encrypted=None, reviewer=None,
                     vendor_reviewed_by=None, modified_at=T0)
    dbsession.add(review)
    dbsession.commit()
    assert dbsession.execute(select(ReviewHistory)).first() is None
    dbsession.expire_all()
    stored = dbsession.get(Review, review.id)
    assert (stored.status, stored.modified_at, [c.comment for c in stored.comments]) == (
        "passed", T0, ["looked away"])
