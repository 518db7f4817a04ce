"""``proctorhub token create INI --role ROLE [--name NAME]``: print a new API token."""

from __future__ import annotations

import secrets

from ..models import ApiToken, Role, digest
from .common import add_ini_argument, fits, session_for


def new_token() -> str:
    return "ph_" + secrets.token_urlsafe(32)


def create_token(session, role: str, name: str = "") -> str:
    """Store a token's hash and return the token itself (shown once, never stored)."""
    token = new_token()
    session.add(ApiToken(role=Role(role).value, name=name, token_hash=digest(token)))
    return token


def register(commands) -> None:
    parser = commands.add_parser("token", help="manage API tokens",
                                 description="Manage the API tokens that LMSs and staff programs use.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a token and print it on standard output",
        description="Create an API token and print it, alone, on standard output. Only its hash is "
        "stored, so it cannot be shown again.",
    )
    add_ini_argument(create)
    create.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="lms: the LMS API; reviewer: review staff; admin: everything")
    create.add_argument("--name", default="", type=fits(ApiToken.__table__.c.name),
                        help="a label to recognise the token by")
    create.set_defaults(handler=run_create)


def run_create(args) -> int:
    with session_for(args.ini) as (session, _settings):
        token = create_token(session, args.role, args.name)
    print(token)
    return 0
