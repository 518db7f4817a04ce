"""Review callbacks from the sandbox vendor: it posts proctorhub's normalised review itself.

    {"attempt_code": "...", "external_id": "..."?, "status": "passed", "comments": [...],
     "reviewed_by": "reviewer@example.edu"?}
"""

from __future__ import annotations

from proctorhub.backends import NormalisedPayloadBackend


class SandboxBackend(NormalisedPayloadBackend):
    name = "sandbox"
    verbose_name = "Sandbox vendor (local stand-in)"
    passing_statuses = frozenset({"passed"})
