import itertools

import pytest

from proctorhub.attempts.lifecycle import can_move
from proctorhub.models import AttemptStatus
from proctorhub.reviews.decision import decide_attempt_status

PASSING = frozenset({"passed"})


def decide(status, *, passing=PASSING, reviewer=False, second_reviews=True, practice=False):
    return decide_attempt_status(review_status=status, passing_statuses=passing, has_staff_reviewer=reviewer,
                                 require_failure_second_reviews=second_reviews, is_practice=practice)


@pytest.mark.parametrize(("reviewer", "second_reviews", "practice"), list(itertools.product([True, False], repeat=3)))
def test_rule1_passing_wins_over_everything(reviewer, second_reviews, practice):
    assert decide("passed", reviewer=reviewer, second_reviews=second_reviews, practice=practice) == "verified"


def test_rule1_uses_the_backends_passing_statuses():
    assert decide("violation", passing=frozenset({"passed", "violation"})) == "verified"


@pytest.mark.parametrize(("reviewer", "second_reviews", "practice"), list(itertools.product([True, False], repeat=3)))
def test_rule2_not_reviewed_is_error(reviewer, second_reviews, practice):
    assert decide("not_reviewed", reviewer=reviewer, second_reviews=second_reviews, practice=practice) == "error"


@pytest.mark.parametrize("status", ["violation", "suspicious"])
def test_rule3_reviewer_or_no_second_reviews_rejects(status):
    assert decide(status, reviewer=True) == "rejected"
    assert decide(status, second_reviews=False) == "rejected"


def test_rule4_practice_rejects():
    assert decide("suspicious", practice=True) == "rejected"


def test_rule5_otherwise_second_review():
    assert decide("suspicious") == "second_review_required"
    assert decide("violation") == "second_review_required"


S = AttemptStatus
COMPLETED = [S.submitted, S.verified, S.rejected, S.second_review_required, S.error]


@pytest.mark.parametrize(("old", "new"), list(itertools.product(COMPLETED + [S.terminated],
                                                                [S.created, S.ready_to_start, S.started, S.paused])))
def test_completed_never_goes_back(old, new):
    assert not can_move(old, new)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(COMPLETED, COMPLETED)))
def test_completed_statuses_move_among_themselves(old, new):
    assert can_move(old, new)


def test_terminated_is_final():
    assert not can_move(S.terminated, S.verified)


def test_the_forward_path():
    path = [S.created, S.ready_to_start, S.started, S.paused, S.started, S.submitted, S.second_review_required,
            S.verified]
    assert all(can_move(a, b) for a, b in itertools.pairwise(path))
