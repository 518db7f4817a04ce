"""``/admin/reviews/`` as JSON: the queue, its filters and keyset pages, a review, second reviews."""

from sqlalchemy import event, func, select

from proctorhub.models import Attempt, AuditEntry, Event, Review, ReviewHistory, StaffUser

from ... import factories as f
from .conftest import receive_review, staff_token


def test_anonymous_is_401_and_lms_token_is_403(testapp, dbsession):
    assert testapp.get("/admin/reviews/", status=401).json["error"]["code"] == "unauthenticated"
    lms = f.token(dbsession, role="lms")
    assert testapp.get("/admin/reviews/", headers=f.auth(lms), status=403).json["error"]["code"] == "forbidden"


def test_queue_order_second_review_then_suspicious_then_rest(testapp, dbsession, admin_token):
    passed = receive_review(testapp, dbsession, status="passed", user_id="u-passed")
    practice = f.exam(dbsession, context_id="course-A", is_practice=True)
    suspicious = receive_review(testapp, dbsession, status="suspicious", exam_row=practice, user_id="u-practice")
    second = receive_review(testapp, dbsession, status="violation", user_id="u-second")
    answer = testapp.get("/admin/reviews/", headers=f.auth(admin_token)).json
    assert [r["id"] for r in answer["reviews"]] == [second.id, suspicious.id, passed.id]
    assert [r["queue_priority"] for r in answer["reviews"]] == [0, 1, 2]
    assert answer["reviews"][0]["attempt_status"] == "second_review_required"
    assert answer["next"] is None


def test_keyset_pages_walk_the_whole_queue_once(testapp, dbsession, admin_token):
    ids = [receive_review(testapp, dbsession, status=s, user_id=f"u{i}").id
           for i, s in enumerate(["passed", "violation", "passed", "suspicious", "passed"])]
    seen, url, pages = [], "/admin/reviews/?limit=2", 0
    while url:
        answer = testapp.get(url, headers=f.auth(admin_token)).json
        seen += [r["id"] for r in answer["reviews"]]
        url, pages = answer["next"], pages + 1
        assert len(answer["reviews"]) <= 2
    assert pages == 3
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    # the two that need a second review come first
    assert set(seen[:2]) == {ids[1], ids[3]}


def test_filters(testapp, dbsession, admin_token):
    a = receive_review(testapp, dbsession, course="course-A", status="passed")
    b = receive_review(testapp, dbsession, course="course-B", status="violation")
    c = receive_review(testapp, dbsession, course="course-C", status="Clean", backend="softwaresecure",
                       external_id="SSI-RECORD-1", user_id="u3")
    h = f.auth(admin_token)

    def ids(query):
        return [r["id"] for r in testapp.get(f"/admin/reviews/?{query}", headers=h).json["reviews"]]

    assert ids("course=course-B") == [b.id]
    assert ids("status=passed") == [a.id, c.id]
    assert ids(f"exam={b.exam_id}") == [b.id]
    assert ids("backend=rest") == [b.id, a.id]
    assert ids("backend=softwaresecure") == [c.id]
    assert ids("course=course-C&status=violation") == []
    # a staff decision takes the review out of the unreviewed filter
    testapp.post_json(f"/admin/reviews/{b.id}", {"status": "violation", "note": "seen"}, headers=h)
    assert ids("unreviewed=1") == [a.id, c.id]


def test_a_queue_page_reads_no_payload_claims_or_tool_configuration(app, testapp, dbsession, admin_token):
    configuration = f.configuration(dbsession)
    exam = f.exam(dbsession, context_id="course-A", configuration_id=configuration.id)
    review = receive_review(testapp, dbsession, exam_row=exam, verified_user={"sub": "learner-1"})
    statements = []

    def note(_connection, _cursor, statement, *_):
        statements.append(statement)

    engine = app.registry["dbengine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        for headers in (f.auth(admin_token), {**f.auth(admin_token), "Accept": "text/html"}):
            assert str(review.id) in testapp.get("/admin/reviews/", headers=headers).text
    finally:
        event.remove(engine, "before_cursor_execute", note)
    [*_, queue] = [s for s in statements if "FROM review" in s]
    assert "raw_payload" not in queue and "verified_user" not in queue and "tool_configuration" not in queue
    assert not any("tool_configuration" in s or "raw_payload" in s for s in statements)


def test_a_second_review_with_an_unknown_field_is_refused_not_half_read(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession, status="violation")
    error = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "passed", "notes": "the reason"},
                              headers=f.auth(admin_token), status=400).json["error"]
    assert error["code"] == "invalid_payload" and "notes" in str(error["details"])
    dbsession.expire_all()
    assert dbsession.get(Review, review.id).reviewer_id is None
    assert dbsession.execute(select(func.count()).select_from(ReviewHistory)).scalar_one() == 0


def test_bad_filters_are_400_naming_the_field(testapp, dbsession, admin_token):
    h = f.auth(admin_token)
    error = testapp.get("/admin/reviews/?after=nonsense", headers=h, status=400).json["error"]
    assert error["code"] == "invalid_payload" and "after" in error["details"]["fields"]
    error = testapp.get("/admin/reviews/?status=great", headers=h, status=400).json["error"]
    assert "status" in error["details"]["fields"]
    assert "limit" in testapp.get("/admin/reviews/?limit=0", headers=h, status=400).json["error"]["details"]["fields"]


def test_reviewer_sees_only_their_courses(testapp, dbsession, reviewer_a):
    mine = receive_review(testapp, dbsession, course="course-A")
    other = receive_review(testapp, dbsession, course="course-B", user_id="u2")
    h = f.auth(staff_token(dbsession, reviewer_a))
    assert [r["id"] for r in testapp.get("/admin/reviews/", headers=h).json["reviews"]] == [mine.id]
    assert testapp.get("/admin/reviews/?course=course-B", headers=h, status=403).json["error"]["code"] == "forbidden"
    assert testapp.get(f"/admin/reviews/{other.id}", headers=h, status=404).json["error"]["code"] == "not_found"
    assert testapp.get(f"/admin/reviews/{mine.id}", headers=h).json["id"] == mine.id
    before = dbsession.execute(select(func.count()).select_from(ReviewHistory)).scalar_one()
    testapp.post_json(f"/admin/reviews/{other.id}", {"status": "passed"}, headers=h, status=404)
    assert dbsession.execute(select(func.count()).select_from(ReviewHistory)).scalar_one() == before


def test_show_review_with_comments_and_raw_payload_on_demand(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1")
    h = f.auth(admin_token)
    answer = testapp.get(f"/admin/reviews/{review.id}", headers=h).json
    assert answer["status"] == "suspicious" and answer["vendor_status"] == "Suspicious"
    assert [c["start"] for c in answer["comments"]] == [10, 100, 12]
    assert answer["attempt"]["attempt_code"] == review.attempt_code
    assert "raw_payload" not in answer
    raw = testapp.get(f"/admin/reviews/{review.id}?raw=1", headers=h).json["raw_payload"]
    assert raw["videoReviewLink"] == "[redacted]"


def test_unknown_or_malformed_review_ids_are_404(testapp, dbsession, admin_token):
    h = f.auth(admin_token)
    assert testapp.get("/admin/reviews/999999", headers=h, status=404).json["error"]["code"] == "not_found"
    testapp.get("/admin/reviews/abc", headers=h, status=404)
    testapp.get("/admin/nothing-here", headers=h, status=404)


def test_second_review_rejects_and_records_reviewer_history_audit_and_event(testapp, dbsession, reviewer_a):
    review = receive_review(testapp, dbsession, status="suspicious")
    assert review.attempt.status == "second_review_required"
    h = f.auth(staff_token(dbsession, reviewer_a))
    answer = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "violation", "note": "phone in hand"},
                               headers=h).json
    assert answer["status"] == "violation" and answer["reviewed_by"] == "rev-a@example.edu"
    assert answer["attempt"]["status"] == "rejected"
    dbsession.expire_all()
    stored = dbsession.get(Review, review.id)
    assert stored.reviewer_id == reviewer_a.id and stored.note == "phone in hand"
    assert stored.queue_priority == 2
    [history] = stored.history
    assert history.status == "suspicious" and history.replaced_by == "staff:rev-a@example.edu"
    [entry] = dbsession.execute(select(AuditEntry)).scalars().all()
    assert (entry.object_type, entry.object_id, entry.action) == ("review", str(review.id), "second_review")
    assert entry.changes["attempt_status"] == ["second_review_required", "rejected"]
    assert entry.staff_user_id == reviewer_a.id
    moves = dbsession.execute(select(Event).where(Event.attempt_id == stored.attempt_id,
                                                  Event.kind == "attempt.status_changed")).scalars().all()
    assert moves[-1].payload["to"] == "rejected"


def test_second_review_passed_verifies(testapp, dbsession, admin_user):
    review = receive_review(testapp, dbsession, status="violation")
    h = f.auth(staff_token(dbsession, admin_user))
    answer = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "passed"}, headers=h).json
    assert answer["attempt"]["status"] == "verified"
    dbsession.expire_all()
    assert dbsession.get(Attempt, review.attempt_id).status == "verified"


def test_outcome_aliases_pick_the_status_for_the_backend(testapp, dbsession, admin_user):
    # For SoftwareSecure a violation passes, so "rejected" must become a status that does not.
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1")
    h = f.auth(staff_token(dbsession, admin_user))
    answer = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "rejected"}, headers=h).json
    assert answer["status"] == "suspicious" and answer["attempt"]["status"] == "rejected"
    answer = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "verified"}, headers=h).json
    assert answer["status"] == "passed" and answer["attempt"]["status"] == "verified"
    assert len(answer["history"]) == 2


def test_bare_admin_token_acts_through_its_own_staff_row(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession, status="suspicious")
    answer = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "suspicious"},
                               headers=f.auth(admin_token)).json
    assert answer["attempt"]["status"] == "rejected"
    assert answer["reviewed_by"].endswith("@api-token.invalid")
    staff = dbsession.execute(select(StaffUser).where(StaffUser.email == answer["reviewed_by"])).scalar_one()
    assert staff.password_hash is None and staff.role == "admin"


def test_second_review_bad_input(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession)
    h = f.auth(admin_token)
    error = testapp.post_json(f"/admin/reviews/{review.id}", {"status": "great"}, headers=h, status=400).json
    assert error["error"]["code"] == "invalid_payload" and "status" in error["error"]["details"]["fields"]
    testapp.post(f"/admin/reviews/{review.id}", b"not json", headers={**h, "Content-Type": "application/json"},
                 status=400)
    dbsession.expire_all()
    assert dbsession.get(Review, review.id).history == []


def test_a_bare_admin_token_keeps_one_audit_label_across_decisions(testapp, dbsession, admin_token):
    h = f.auth(admin_token)
    for status in ("violation", "passed"):
        review = receive_review(testapp, dbsession, status="suspicious", user_id=f"learner-{status}")
        testapp.post_json(f"/admin/reviews/{review.id}", {"status": status}, headers=h)
    dbsession.expire_all()
    actors = [entry.actor for entry in dbsession.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
    assert len(actors) == 2 and actors[0] == actors[1] and actors[0].startswith("token:")
