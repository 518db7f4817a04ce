"""The lifecycle's rules read from plain statuses."""

import pytest

from proctorhub.attempts.lifecycle import past_submission
from proctorhub.models import AttemptStatus as S

REVIEWED_OR_TERMINATED = {S.verified, S.rejected, S.second_review_required, S.error, S.terminated}


@pytest.mark.parametrize("status", list(S))
def test_past_submission_means_reviewed_or_terminated(status):
    assert past_submission(status) is (status in REVIEWED_OR_TERMINATED)
    assert past_submission(status.value) is (status in REVIEWED_OR_TERMINATED)
