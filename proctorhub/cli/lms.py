"""``proctorhub lms create INI --name NAME [--slug SLUG]`` (prints the slug) and
``proctorhub lms list INI``: the learning platforms (tenants) that use this hub."""

from __future__ import annotations

from ..errors import ProctorhubError
from ..lms.service import create_lms, list_lmss
from ..models import Lms
from .common import CommandError, add_ini_argument, fits, session_for


def register(commands) -> None:
    parser = commands.add_parser("lms", help="manage lmss (the learning platforms that use this hub)",
                                 description="Manage the lmss: each has its own tokens, exams and attempts, "
                                 "and none sees another's.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create an lms and print its slug",
        description="Create an lms and print its slug, alone, on standard output. The slug names it "
        "in URLs (/admin/lms/SLUG) and in `token create --lms SLUG`; it is made from the name unless "
        "given, and cannot change later.",
    )
    add_ini_argument(create)
    create.add_argument("--name", required=True, type=fits(Lms.__table__.c.name),
                        help="the name shown in the admin, e.g. 'Moodle (Law School)'")
    create.add_argument("--slug", default=None,
                        help="lower-case letters, digits and hyphens, e.g. moodle-law")
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="list the lmss", description="List the lmss: slug, then name.")
    add_ini_argument(listing)
    listing.set_defaults(handler=run_list)


def run_create(args) -> int:
    with session_for(args.ini) as (session, _settings):
        try:
            lms = create_lms(session, args.name, args.slug)
        except ProctorhubError as error:
            raise CommandError(error.message) from None
        slug = lms.slug
    print(slug)
    return 0


def run_list(args) -> int:
    with session_for(args.ini) as (session, _settings):
        rows = [(lms.slug, lms.name) for lms in list_lmss(session)]
    for slug, name in rows:
        print(f"{slug}\t{name}")
    return 0
