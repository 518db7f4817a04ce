"""``proctorhub token create INI --role ROLE [--lms SLUG] [--name NAME]``: print a new API token.
``proctorhub token revoke INI NAME``: revoke the tokens with that name.

An ``lms`` token belongs to one lms: ``--lms`` names it, and may be left out while only one lms
exists. Admin and reviewer tokens belong to none.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from ..models import ApiToken, Lms, Role, digest, utcnow
from ..models.lms import slug_problem
from .common import CommandError, add_ini_argument, fits, session_for


def new_token() -> str:
    return "ph_" + secrets.token_urlsafe(32)


def token_lms(session, role: str, slug: str | None) -> Lms | None:
    """The lms a new token of ``role`` belongs to; ``CommandError`` when it cannot be told."""
    if role != Role.lms.value:
        if slug is not None:
            raise CommandError(f"--lms is for lms tokens only; a {role} token belongs to no lms")
        return None
    if slug is not None:
        lms = None if slug_problem(slug) else session.execute(select(Lms).where(Lms.slug == slug)).scalar_one_or_none()
        if lms is None:
            raise CommandError(f"no lms has the slug {slug!r} (see `proctorhub lms list`)")
        return lms
    lmss = session.execute(select(Lms).order_by(Lms.slug).limit(2)).scalars().all()
    if not lmss:
        raise CommandError("no lms exists yet: create one with `proctorhub lms create`")
    if len(lmss) > 1:
        raise CommandError("several lmss exist: name one with --lms SLUG (see `proctorhub lms list`)")
    return lmss[0]


def create_token(session, role: str, name: str = "", lms: str | None = None) -> str:
    """Store a token's hash and return the token itself (shown once, never stored).

    ``lms``: the slug of an lms token's lms (may be left out while only one lms exists)."""
    owner = token_lms(session, Role(role).value, lms)
    token = new_token()
    session.add(ApiToken(role=Role(role).value, name=name, token_hash=digest(token),
                         lms_id=owner.id if owner else None))
    return token


def revoke_tokens(session, name: str) -> int:
    """Revoke the live tokens called ``name``; how many there were."""
    result = session.execute(update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return result.rowcount


def register(commands) -> None:
    parser = commands.add_parser("token", help="manage API tokens",
                                 description="Manage the API tokens that LMSs and staff programs use.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a token and print it on standard output",
        description="Create an API token and print it, alone, on standard output. Only its hash is "
        "stored, so it cannot be shown again. An lms token belongs to one lms (--lms), and sees only "
        "that lms's exams and attempts.",
    )
    add_ini_argument(create)
    create.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="lms: the LMS API; reviewer: review staff; admin: everything")
    create.add_argument("--lms", metavar="SLUG", default=None,
                        help="the lms an lms token belongs to; required when more than one lms exists")
    create.add_argument("--name", default="", type=fits(ApiToken.__table__.c.name),
                        help="a label to recognise the token by (and to revoke it by)")
    create.set_defaults(handler=run_create)
    revoke = actions.add_parser(
        "revoke",
        help="revoke the tokens with a name",
        description="Revoke every live API token called NAME: from now on they are refused (401).",
    )
    add_ini_argument(revoke)
    revoke.add_argument("name", metavar="NAME", help="the name given with token create --name")
    revoke.set_defaults(handler=run_revoke)


def run_create(args) -> int:
    with session_for(args.ini) as (session, _settings):
        token = create_token(session, args.role, args.name, args.lms)
    print(token)
    return 0


def run_revoke(args) -> int:
    with session_for(args.ini) as (session, _settings):
        count = revoke_tokens(session, args.name)
        if count == 0:
            raise CommandError(f"no live token is called {args.name!r}")
    print(f"{count} token{'s' if count != 1 else ''} revoked: {args.name}")
    return 0
