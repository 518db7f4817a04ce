"""Issue 13 finding 3: a signed review callback resent within its window changes nothing."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from proctorhub.models import Attempt, Event, ReplayEntry, Review, ReviewComment, ReviewHistory

from ... import factories as f

REST = "/api/v1/reviews/rest"


def state(dbsession) -> dict:
    """Everything a callback writes."""
    dbsession.expire_all()

    def count(model):
        return dbsession.execute(select(func.count()).select_from(model)).scalar_one()

    return {
        "reviews": dbsession.execute(select(Review.status, Review.payload_digest, Review.signed_at)).all(),
        "attempts": dbsession.execute(select(Attempt.status, Attempt.modified_at)).all(),
        "comments": dbsession.execute(select(ReviewComment.comment).order_by(ReviewComment.id)).scalars().all(),
        "history": count(ReviewHistory),
        "events": count(Event),
    }


def _send(testapp, signed, status=200):
    body, headers = signed
    return testapp.post(REST, body, headers=headers, status=status).json


def test_an_earlier_signed_callback_resent_is_refused(testapp, dbsession):
    """The attack: the vendor first said `suspicious`, then `passed`; the first callback, posted
    again inside its 5 minutes, reverted both the review and the attempt."""
    attempt = f.attempt(dbsession)
    now = int(time.time())
    first = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"), timestamp=now - 20)
    second = f.signed("rest", f.rest_payload(attempt.attempt_code, status="passed", comments=[]), timestamp=now - 10)
    assert _send(testapp, first)["attempt"]["status"] == "second_review_required"
    assert _send(testapp, second)["attempt"]["status"] == "verified"
    before = state(dbsession)
    error = _send(testapp, first, status=409)["error"]
    assert error["code"] == "replayed_signature"
    assert error["details"] == {"attempt_code": attempt.attempt_code}
    assert state(dbsession) == before
    assert before["reviews"][0][0] == "passed" and before["attempts"][0][0] == "verified"


def test_the_same_second_and_a_header_written_differently_are_still_a_replay(testapp, dbsession):
    attempt = f.attempt(dbsession)
    now = int(time.time())
    first = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"), timestamp=now)
    second = f.signed("rest", f.rest_payload(attempt.attempt_code, status="passed"), timestamp=now)
    _send(testapp, first)
    _send(testapp, second)
    before = state(dbsession)
    body, headers = first
    # The same signed message, its header padded and carrying a second (junk) signature.
    t_part, v1_part = headers["X-Proctorhub-Signature"].split(",")
    signature = v1_part.partition("=")[2]
    headers = {**headers, "X-Proctorhub-Signature": f" {t_part} , v1=00ff , v1={signature.upper()}"}
    error = testapp.post(REST, body, headers=headers, status=409).json["error"]
    assert error["code"] == "replayed_signature"
    assert state(dbsession) == before


def test_an_update_signed_before_the_stored_review_is_refused(testapp, dbsession):
    """A callback delayed in transit (or held back by someone) that was signed before the review
    now stored would replace a newer verdict with an older one."""
    attempt = f.attempt(dbsession)
    now = int(time.time())
    _send(testapp, f.signed("rest", f.rest_payload(attempt.attempt_code, status="passed"), timestamp=now - 5))
    before = state(dbsession)
    older = f.signed("rest", f.rest_payload(attempt.attempt_code, status="violation"), timestamp=now - 60)
    error = _send(testapp, older, status=409)["error"]
    assert error["code"] == "stale_review"
    assert state(dbsession) == before
    # A newer one is an ordinary update.
    newer = f.signed("rest", f.rest_payload(attempt.attempt_code, status="violation"), timestamp=now)
    assert _send(testapp, newer)["outcome"] == "updated"


def test_a_resend_of_the_stored_review_is_answered_unchanged(testapp, dbsession):
    """A vendor that retries after a lost answer gets its answer; nothing is written twice."""
    attempt = f.attempt(dbsession)
    signed = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"))
    _send(testapp, signed)
    before = state(dbsession)
    assert _send(testapp, signed)["outcome"] == "unchanged"
    assert state(dbsession) == before


def test_the_ledger_is_in_the_database_and_kept_until_the_window_ends(make_app, dbsession):
    """Another process refuses the replay too; the entry lives until the signature's window ends."""
    one, other = make_app(), make_app()
    attempt = f.attempt(dbsession)
    now = int(time.time())
    first = f.signed("rest", f.rest_payload(attempt.attempt_code, status="suspicious"), timestamp=now - 30)
    _send(one, first)
    _send(one, f.signed("rest", f.rest_payload(attempt.attempt_code, status="passed"), timestamp=now - 20))
    before = state(dbsession)
    assert _send(other, first, status=409)["error"]["code"] == "replayed_signature"
    assert state(dbsession) == before
    entries = dbsession.execute(select(ReplayEntry).where(ReplayEntry.kind == "review")
                                .order_by(ReplayEntry.expires_at)).scalars().all()
    assert [entry.issuer for entry in entries] == ["backend:rest", "backend:rest"]
    assert int(entries[0].expires_at.timestamp()) == now - 30 + 300 + 1
