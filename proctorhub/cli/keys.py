"""``proctorhub keys rotate INI`` and ``proctorhub keys list INI``: the platform's signing keys;
``proctorhub keys reencrypt INI``: every stored secret under the newest encryption key."""

from __future__ import annotations

from sqlalchemy import select

from ..crypto import DecryptionError, build_encryptor, reencrypt_all
from ..lti.keys import rotate
from ..models import PlatformKey, utcnow
from .common import CommandError, add_ini_argument, session_for


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
    reencrypt_parser = actions.add_parser(
        "reencrypt", help="re-encrypt every stored secret with the newest encryption key",
        description="Secrets at rest (the platform's private keys among them) are encrypted with the "
        "keys in PROCTORHUB_ENCRYPTION_KEYS (newest first). After putting a new key first, run this to "
        "re-encrypt everything stored with it; then the old keys may be dropped. Prints how many values "
        "changed per column.",
    )
    add_ini_argument(reencrypt_parser)
    reencrypt_parser.set_defaults(handler=run_reencrypt)


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


def run_reencrypt(args) -> int:
    with session_for(args.ini) as (session, settings):
        try:
            changed = reencrypt_all(session, build_encryptor(settings))
        except DecryptionError:
            raise CommandError("a stored secret opens with none of the configured encryption keys; "
                               "keep every old key in PROCTORHUB_ENCRYPTION_KEYS until this succeeds") from None
    for column, count in changed.items():
        print(f"{column}\t{count} re-encrypted")
    return 0
