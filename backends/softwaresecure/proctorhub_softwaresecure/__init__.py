"""SoftwareSecure (PSI) review callbacks.

The vendor posts its review as JSON: ``examMetaData.examCode`` is the attempt code proctorhub
issued, ``examMetaData.ssiRecordLocator`` the vendor's own record id, ``reviewStatus`` the
verdict, and ``webCamComments`` / ``desktopComments`` the incidents. ``videoReviewLink`` is redacted
from the stored payload and kept encrypted beside the review (``video_link``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from proctorhub.backends import ReviewBackend
from proctorhub.backends.errors import BadReviewStatus, InvalidPayload

STATUS_MAP = {
    "Clean": "passed",
    "Rules Violation": "violation",
    "Suspicious": "suspicious",
    "Not Reviewed": "not_reviewed",
}

COMMENT_LISTS = ("webCamComments", "desktopComments")


def _meta(payload: Mapping) -> Mapping:
    meta = payload.get("examMetaData")
    if not isinstance(meta, Mapping):
        raise InvalidPayload("examMetaData must be an object", details={"fields": {"examMetaData": "required"}})
    return meta


class SoftwareSecureBackend(ReviewBackend):
    name = "softwaresecure"
    verbose_name = "SoftwareSecure / PSI"
    # A rules violation still verifies the attempt: PSI flags minor breaches this way.
    passing_statuses = frozenset({"passed", "violation"})
    redacted_fields = ("videoReviewLink",)

    def attempt_code(self, payload: Mapping) -> str:
        code = _meta(payload).get("examCode")
        if not isinstance(code, str) or not code.strip():
            raise InvalidPayload("examMetaData.examCode must be the attempt code",
                                 details={"fields": {"examMetaData.examCode": "required"}})
        return code.strip()

    def external_id(self, payload: Mapping) -> str | None:
        locator = _meta(payload).get("ssiRecordLocator")
        if locator is None:
            return None
        # A number is kept as text; true or false (ints to Python) is no record id.
        if isinstance(locator, bool) or not isinstance(locator, str | int):
            raise InvalidPayload("examMetaData.ssiRecordLocator must be a string",
                                 details={"fields": {"examMetaData.ssiRecordLocator": "not a string"}})
        return str(locator)

    def video_link(self, payload: Mapping) -> str | None:
        """``videoReviewLink``, when it is an absolute http(s) URL of printable ASCII (else nothing is kept)."""
        link = payload.get("videoReviewLink")
        if not isinstance(link, str) or not link.isascii() or len(link) > 4000:
            return None
        link = link.strip()
        if any(ord(ch) < 33 or ord(ch) == 127 for ch in link):
            return None
        parts = urlsplit(link)
        return link if parts.scheme in ("http", "https") and parts.hostname else None

    def vendor_status(self, payload: Mapping) -> str:
        return str(payload.get("reviewStatus", ""))

    def normalise(self, payload: Mapping) -> dict:
        vendor_status = payload.get("reviewStatus")
        if not isinstance(vendor_status, str) or vendor_status not in STATUS_MAP:
            raise BadReviewStatus(
                f"reviewStatus {vendor_status!r} is not one of {', '.join(STATUS_MAP)}",
                details={"reviewStatus": vendor_status, "allowed": list(STATUS_MAP)},
            )
        comments = []
        for list_name in COMMENT_LISTS:
            entries = payload.get(list_name) or []
            if not isinstance(entries, list):
                raise InvalidPayload(f"{list_name} must be a list", details={"fields": {list_name: "not a list"}})
            for index, entry in enumerate(entries):
                if not isinstance(entry, Mapping):
                    raise InvalidPayload(f"{list_name}[{index}] must be an object",
                                         details={"fields": {f"{list_name}.{index}": "not an object"}})
                comments.append(
                    {
                        "start": entry.get("eventStart"),
                        "stop": entry.get("eventFinish"),
                        "duration": entry.get("duration"),
                        "comment": entry.get("comments", ""),
                        "status": entry.get("eventStatus"),
                    }
                )
        # PSI's own reviewers are not institution staff: the review has no staff reviewer.
        return {"status": STATUS_MAP[vendor_status], "comments": comments, "reviewed_by": None}
