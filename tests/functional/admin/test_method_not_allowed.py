"""A method nothing at a URL answers is 405 with Allow, not a misleading 404."""

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
