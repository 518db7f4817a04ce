"""Learning platforms (tenants): every ``lms`` API token, exam and attempt belongs to exactly one.

An lms is a hard boundary (DESIGN.md 5.1): exams are found per (lms, context id, resource link
id), and nothing of another lms exists for its callers. Its ``slug`` is how people and URLs
name it (``/admin/lms/{slug}``, ``--lms SLUG``); it never changes once made.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, UTCDateTime, utcnow

SLUG_MAX = 64
# Lower-case letters, digits and inner hyphens: safe in a URL path segment, a shell and a log line.
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# The lms that a database migrated from before tenants gives everything that existed.
DEFAULT_SLUG = "default"


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot name an lms, or None."""
    if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug):
        return (f"a slug is 1 to {SLUG_MAX} lower-case letters, digits and hyphens, "
                "starting and ending with a letter or digit")
    return None


def slug_from_name(name: str) -> str:
    """A slug made from a display name ("Moodle (Law School)" → "moodle-law-school"), or "" if none can be."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:SLUG_MAX].strip("-")


class Lms(Base):
    __tablename__ = "lms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
