"""Generic REST review callbacks: the vendor posts proctorhub's normalised review itself.

    {"attempt_code": "...", "external_id": "..."?, "status": "passed", "comments": [...],
     "reviewed_by": "reviewer@example.edu"?}
"""

from __future__ import annotations

from proctorhub.backends import NormalisedPayloadBackend


class RestBackend(NormalisedPayloadBackend):
    name = "rest"
    verbose_name = "Generic REST"
    passing_statuses = frozenset({"passed"})
