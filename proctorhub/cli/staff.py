"""``proctorhub staff create INI --email E --role admin|reviewer [--lms SLUG] [--course C ...]``: add a staff user;
``proctorhub staff password INI --email E``: set a new password (read as for ``create``);
``proctorhub staff disable INI --email E``: the user can no longer sign in or use their tokens.
Both end every session the user has open.

A reviewer's courses are (lms, context id) pairs: the ``--course`` ids are in the lms ``--lms``
names, which may be left out while only one lms exists.

The password is read from standard input (the first line), so it never appears in the shell's
history or the process list: ``printf '%s\\n' "$PASSWORD" | proctorhub staff create ...``. On a
terminal it is asked for twice, without echo. ``staff create`` with nothing at all on standard input
(``</dev/null``, a script that pipes nothing) makes a user without a password: they cannot sign in
until ``staff password`` gives them one.
"""

from __future__ import annotations

import getpass
import sys

from sqlalchemy import func, select

from ..models import Role, StaffCourse, StaffUser, utcnow
from ..security.passwords import hash_password, password_problem
from .common import CommandError, add_ini_argument, fits, session_for
from .tokens import token_lms

STAFF_ROLES = (Role.admin.value, Role.reviewer.value)


def register(commands) -> None:
    parser = commands.add_parser("staff", help="manage staff users (people who sign in to the admin)",
                                 description="Manage the staff users who sign in to the admin.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a staff user; the password is read from standard input",
        description="Create a staff user who signs in to /admin with EMAIL and the password read from "
        "standard input (with nothing at all on standard input, the user has no password and cannot sign in "
        "until `staff password` sets one). Reviewers see only the courses given with --course (context ids "
        "in the lms --lms names); admins see everything.",
    )
    add_ini_argument(create)
    create.add_argument("--email", required=True, type=fits(StaffUser.__table__.c.email),
                        help="what the user signs in with")
    create.add_argument("--role", required=True, choices=STAFF_ROLES,
                        help="reviewer: reviews of their courses; admin: everything")
    create.add_argument("--lms", metavar="SLUG", default=None,
                        help="the lms of the --course ids; required when more than one lms exists")
    create.add_argument("--course", action="append", default=[], metavar="CONTEXT_ID",
                        type=fits(StaffCourse.__table__.c.context_id),
                        help="an LMS course (context) id the reviewer may see; repeat for several")
    create.add_argument("--name", default=None, type=fits(StaffUser.__table__.c.name),
                        help="the name shown in the admin")
    create.set_defaults(handler=run_create)
    _add_email_action(
        actions, "password", run_password,
        help="set a staff user's password (read from standard input); ends their sessions",
        description="Set the password of the staff user EMAIL to the one read from standard input (as for "
        "`staff create`). Every session the user has open ends: each browser must sign in again.",
    )
    _add_email_action(
        actions, "disable", run_disable,
        help="disable a staff user: no sign-in, no sessions, no API tokens",
        description="Disable the staff user EMAIL: they can no longer sign in, every session they have open "
        "ends at once, and API tokens linked to them stop working. Their reviews and audit trail stay.",
    )


def _add_email_action(actions, name: str, handler, *, help: str, description: str) -> None:  # noqa: A002
    """A ``staff`` action that takes the ini file and one staff user's ``--email``."""
    parser = actions.add_parser(name, help=help, description=description)
    add_ini_argument(parser)
    parser.add_argument("--email", required=True, type=fits(StaffUser.__table__.c.email),
                        help="the staff user's email")
    parser.set_defaults(handler=handler)


def read_password(stdin=None, *, optional: bool = False) -> str | None:
    """The password on standard input (asked for on a terminal); with ``optional``, None when
    standard input holds nothing at all (an empty line is a password, and too short)."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the two passwords differ")
    else:
        line = stdin.readline()
        if optional and line == "":
            return None
        password = line.rstrip("\r\n")
    problem = password_problem(password)
    if problem:
        raise CommandError(problem)
    return password


def create_staff(session, *, email: str, role: str, courses, lms: str | None = None, name=None,
                 password: str | None) -> StaffUser:
    """A new staff user; ``courses`` are context ids in the lms ``lms`` (a slug); without a
    ``password`` they cannot sign in until one is set."""
    email = email.strip()
    if "@" not in email:
        raise CommandError(f"{email!r} is not an email address")
    exists = session.execute(
        select(StaffUser.id).where(func.lower(StaffUser.email) == email.lower())
    ).first()
    if exists:
        raise CommandError(f"a staff user with email {email} already exists")
    if courses and role != Role.reviewer.value:
        raise CommandError("--course is for reviewers; admins see every course")
    if lms is not None and not courses:
        raise CommandError("--lms names the lms of the --course ids: give at least one --course")
    owner = token_lms(session, Role.lms.value, lms) if courses else None
    password_hash = None if password is None else hash_password(password)
    staff = StaffUser(email=email, name=name, role=Role(role).value, password_hash=password_hash,
                      courses=[StaffCourse(lms_id=owner.id, context_id=c) for c in sorted(set(courses))])
    session.add(staff)
    return staff


def run_create(args) -> int:
    password = read_password(optional=True)
    with session_for(args.ini) as (session, _settings):
        staff = create_staff(session, email=args.email, role=args.role, courses=args.course, lms=args.lms,
                             name=args.name, password=password)
        session.flush()
        summary = f"staff user {staff.id} created: {staff.email} ({staff.role}"
        courses = ", ".join(f"{c.lms.slug}/{c.context_id}" for c in staff.courses)
        summary += f"; courses: {courses or 'none'})" if staff.role == "reviewer" else ")"
    if password is None:
        summary += (f"; no password yet, so no sign-in: give one with "
                    f"`proctorhub staff password {args.ini} --email {staff.email}`")
    print(summary)
    return 0


def find_staff(session, email: str) -> StaffUser:
    staff = session.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    ).scalar_one_or_none()
    if staff is None:
        raise CommandError(f"no staff user has the email {email.strip()}")
    return staff


def run_password(args) -> int:
    password = read_password()
    with session_for(args.ini) as (session, _settings):
        staff = find_staff(session, args.email)
        staff.password_hash = hash_password(password)
        staff.session_generation += 1  # every cookie signed in with the old password stops working
        email = staff.email
    print(f"password changed for {email}; their sessions have ended")
    return 0


def run_disable(args) -> int:
    with session_for(args.ini) as (session, _settings):
        staff = find_staff(session, args.email)
        if staff.disabled_at is None:
            staff.disabled_at = utcnow()
        staff.session_generation += 1
        email = staff.email
    print(f"staff user {email} disabled; their sessions have ended and their tokens no longer work")
    return 0
