"""LTI custom parameters: each tool configuration's ``custom`` values, sent in every launch with
substitution variables replaced (LTI 1.3 Core, appendix: a value that is exactly a variable's
name becomes its value; a variable the platform cannot fill stays as written)."""

from __future__ import annotations

# The variables proctorhub fills, and which launch value each one names.
VARIABLES = {
    "$User.id": "user_id",
    "$Person.name.full": "user_name",
    "$Person.name.given": "given_name",
    "$Person.name.family": "family_name",
    "$Person.email.primary": "user_email",
    "$ResourceLink.id": "resource_link_id",
    "$ResourceLink.title": "resource_link_title",
    "$Context.id": "context_id",
    "$Context.title": "context_title",
    # proctorhub's own: the attempt code a vendor posts its review with (the sandbox tool reads it).
    "$Attempt.code": "attempt_code",
    "$Attempt.number": "attempt_number",
}


def substituted(custom: dict | None, values: dict) -> dict:
    """``custom`` with every value that names a known variable replaced by ``values[...]`` (as
    text); a variable without a value here stays as written."""
    result = {}
    for name, value in (custom or {}).items():
        source = VARIABLES.get(value.strip()) if isinstance(value, str) else None
        filled = values.get(source) if source else None
        result[name] = str(filled) if filled is not None else value
    return result
