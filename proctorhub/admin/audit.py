"""Who is acting in the admin, and the audit trail of what they changed."""

from __future__ import annotations

from sqlalchemy import select

from ..attempts.serialize import iso
from ..models import ApiToken, AuditEntry, StaffUser
from ..models.retry import flush_or_retry

TOKEN_STAFF_DOMAIN = "api-token.invalid"
ACTOR_LENGTH = AuditEntry.__table__.c.actor.type.length


def acting_staff(request) -> StaffUser:
    """The staff user behind this request, to record as a reviewer or in the audit trail.

    A session is a staff user. An API token created for a staff user acts as that user. A bare
    admin or reviewer token (``proctorhub token create``) acts through a staff row of its own,
    made on first use: it has no password, so nobody can sign in as it, but every decision the
    program takes is attributed to that token.
    """
    identity = request.identity
    dbsession = request.dbsession
    if identity.staff_user_id is not None:
        return dbsession.get(StaffUser, identity.staff_user_id)
    token = dbsession.get(ApiToken, identity.id)
    email = f"token-{token.id}@{TOKEN_STAFF_DOMAIN}"
    staff = dbsession.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()
    if staff is None:
        staff = StaffUser(email=email, name=f"API token {token.name or token.id}"[:255], role=token.role, courses=[])
        dbsession.add(staff)
        # Two first decisions of one token at the same moment: the loser is retried, and finds the row.
        flush_or_retry(dbsession)
    token.staff_user_id = staff.id
    return staff


def actor_label(request) -> str:
    identity = request.identity
    # A token acting through its own staff row (see acting_staff) keeps its token label.
    if identity.kind == "staff" or (identity.email and not identity.email.endswith(f"@{TOKEN_STAFF_DOMAIN}")):
        label = f"staff:{identity.email}"
    else:
        label = f"token:{identity.name or identity.id}"
    return label[:ACTOR_LENGTH]


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def diff(row, new_values: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value would change."""
    changes = {}
    for key, new in new_values.items():
        old = getattr(row, key)
        if _plain(old) != _plain(new):
            changes[key] = [_plain(old), _plain(new)]
    return changes


def apply_update(request, row, values: dict, *, object_type: str) -> dict:
    """Set ``values`` on ``row`` and record in the audit trail what changed, if anything; return the changes."""
    changes = diff(row, values)
    for key, value in values.items():
        setattr(row, key, value)
    if changes:
        request.dbsession.flush()
        record(request, object_type=object_type, object_id=row.id, action="update", changes=changes)
    return changes


def record(request, *, object_type: str, object_id, action: str, changes: dict,
           staff: StaffUser | None = None) -> AuditEntry:
    entry = AuditEntry(
        staff_user_id=staff.id if staff is not None else request.identity.staff_user_id,
        actor=actor_label(request),
        object_type=object_type,
        object_id=str(object_id),
        action=action,
        changes=changes,
    )
    request.dbsession.add(entry)
    return entry


def entries_for(dbsession, object_type: str, object_id) -> list[AuditEntry]:
    return list(
        dbsession.execute(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.id.desc())
        ).scalars()
    )


def audit_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "changes": entry.changes,
        "created_at": iso(entry.created_at),
    }
