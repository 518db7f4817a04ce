"""A method nothing at a URL answers is 405 with Allow, and an Accept it answers in no media type of is 406,
not a misleading 404."""

from ... import factories as f
from .conftest import receive_review, staff_token


def test_admin_item_answers_405_with_the_methods_it_takes(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession)
    response = testapp.delete(f"/admin/reviews/{review.id}", headers=f.auth(admin_token), status=405)
    error = response.json["error"]
    assert error["code"] == "method_not_allowed" and error["details"]["method"] == "DELETE"
    assert "GET" in error["details"]["allowed"] and "DELETE" not in error["details"]["allowed"]
    assert response.headers["Allow"] == ", ".join(error["details"]["allowed"])
    # A missing item is still 404.
    testapp.delete("/admin/reviews/99999", headers=f.auth(admin_token), status=404)


def test_api_route_answers_405(testapp, dbsession):
    lms = f.auth(f.token(dbsession))
    response = testapp.delete("/api/v1/attempts", headers=lms, status=405)
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_reviewer_learns_nothing_of_another_courses_review(testapp, dbsession, reviewer_a):
    other = receive_review(testapp, dbsession, course="course-B", user_id="learner-9")
    h = f.auth(staff_token(dbsession, reviewer_a))
    missing = testapp.delete("/admin/reviews/99999", headers=h, status=404).json["error"]
    hidden = testapp.delete(f"/admin/reviews/{other.id}", headers=h, status=404).json["error"]
    assert hidden["code"] == missing["code"] == "not_found"
    assert "Allow" not in testapp.delete(f"/admin/reviews/{other.id}", headers=h, status=404).headers


def test_a_method_answered_in_no_media_type_the_caller_accepts_is_406(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession)
    h = f.auth(admin_token)
    # The review answers GET as HTML and JSON, PUT as JSON only.
    response = testapp.get(f"/admin/reviews/{review.id}", headers={**h, "Accept": "application/xml"}, status=406)
    error = response.json["error"]
    assert error["code"] == "not_acceptable"
    assert set(error["details"]["offered"]) == {"application/json", "text/html"}
    put = testapp.put_json(f"/admin/reviews/{review.id}", {"status": "passed"},
                           headers={**h, "Accept": "text/plain"}, status=406)
    assert put.json["error"]["details"]["offered"] == ["application/json"]
    dbsession.refresh(review)
    assert review.status != "passed"  # nothing was done
    # An acceptable Accept still works.
    testapp.get(f"/admin/reviews/{review.id}", headers={**h, "Accept": "application/json"}, status=200)
    # A missing item is still 404, whatever the Accept.
    testapp.get("/admin/reviews/99999", headers={**h, "Accept": "application/xml"}, status=404)


def test_a_reviewer_gets_404_not_406_for_another_courses_review(testapp, dbsession, reviewer_a):
    other = receive_review(testapp, dbsession, course="course-B", user_id="learner-9")
    h = {**f.auth(staff_token(dbsession, reviewer_a)), "Accept": "application/xml"}
    assert testapp.get(f"/admin/reviews/{other.id}", headers=h, status=404).json["error"]["code"] == "not_found"
