"""``proctorhub keys rotate INI`` and ``proctorhub keys list INI``: the platform's signing keys."""

from __future__ import annotations

from sqlalchemy import select

from ..lti.keys import rotate
from ..models import PlatformKey, utcnow
from .common import add_ini_argument, session_for


def register(commands) -> None:
    parser = commands.add_parser(
        "keys", help="list or rotate the platform's LTI signing keys",
        description="The RSA keys proctorhub signs LTI id_tokens and ACS access tokens with. "
        "`initdb` makes the first (active) key and its published successor (next).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate_parser = actions.add_parser(
        "rotate",
        help="promote the published next key to active and publish a new next key",
        description="Rotate the signing keys: the next key (already published in the JWKS) starts "
        "signing, the active key is retired but stays published until every token it signed has "
        "expired, a new next key is published, and retired keys past that point are dropped.",
    )
    add_ini_argument(rotate_parser)
    rotate_parser.set_defaults(handler=run_rotate)
    list_parser = actions.add_parser(
        "list", help="list the keys: kid, state, created, retire-after, published",
        description="List the platform keys, one a line: kid, state, created, retire-after, published.",
    )
    add_ini_argument(list_parser)
    list_parser.set_defaults(handler=run_list)


def run_rotate(args) -> int:
    with session_for(args.ini) as (session, settings):
        result = rotate(session, settings)
    for kid in result["retired"]:
        print(f"retired {kid}")
    print(f"active  {result['active']}")
    print(f"next    {result['next']}")
    for kid in result["dropped"]:
        print(f"dropped {kid}")
    return 0


def run_list(args) -> int:
    with session_for(args.ini) as (session, _settings):
        now = utcnow()
        rows = session.execute(select(PlatformKey).order_by(PlatformKey.created_at)).scalars().all()
        lines = []
        for key in rows:
            published = key.state != "retired" or (key.retire_after is not None and key.retire_after > now)
            retire_after = key.retire_after.isoformat(timespec="seconds") if key.retire_after else "-"
            lines.append(f"{key.kid}\t{key.state}\t{key.created_at.isoformat(timespec='seconds')}\t"
                         f"{retire_after}\t{'published' if published else 'unpublished'}")
    if not lines:
        print("no platform keys; run `proctorhub initdb INI`")
    for line in lines:
        print(line)
    return 0
