"""``proctorhub staff create INI --email E --role admin|reviewer [--course C ...]``: add a staff user.

The password is read from standard input (the first line), so it never appears in the shell's
history or the process list: ``printf '%s\\n' "$PASSWORD" | proctorhub staff create ...``. On a
terminal it is asked for twice, without echo.
"""

from __future__ import annotations

import getpass
import sys

from sqlalchemy import func, select

from ..models import Role, StaffUser
from ..security.passwords import hash_password, password_problem
from .common import CommandError, add_ini_argument, fits, session_for

STAFF_ROLES = (Role.admin.value, Role.reviewer.value)


def register(commands) -> None:
    parser = commands.add_parser("staff", help="manage staff users (people who sign in to the admin)",
                                 description="Manage the staff users who sign in to the admin.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a staff user; the password is read from standard input",
        description="Create a staff user who signs in to /admin with EMAIL and the password read from "
        "standard input. Reviewers see only the courses given with --course; admins see everything.",
    )
    add_ini_argument(create)
    create.add_argument("--email", required=True, type=fits(StaffUser.__table__.c.email),
                        help="what the user signs in with")
    create.add_argument("--role", required=True, choices=STAFF_ROLES,
                        help="reviewer: reviews of their courses; admin: everything")
    create.add_argument("--course", action="append", default=[], metavar="CONTEXT_ID",
                        help="an LMS course (context) id the reviewer may see; repeat for several")
    create.add_argument("--name", default=None, type=fits(StaffUser.__table__.c.name),
                        help="the name shown in the admin")
    create.set_defaults(handler=run_create)


def read_password(stdin=None) -> str:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the two passwords differ")
    else:
        password = stdin.readline().rstrip("\r\n")
    problem = password_problem(password)
    if problem:
        raise CommandError(problem)
    return password


def create_staff(session, *, email: str, role: str, courses, name=None, password: str) -> StaffUser:
    email = email.strip()
    if "@" not in email:
        raise CommandError(f"{email!r} is not an email address")
    exists = session.execute(
        select(StaffUser.id).where(func.lower(StaffUser.email) == email.lower())
    ).first()
    if exists:
        raise CommandError(f"a staff user with email {email} already exists")
    staff = StaffUser(email=email, name=name, role=Role(role).value, courses=sorted(set(courses)),
                      password_hash=hash_password(password))
    session.add(staff)
    return staff


def run_create(args) -> int:
    password = read_password()
    with session_for(args.ini) as (session, _settings):
        staff = create_staff(session, email=args.email, role=args.role, courses=args.course, name=args.name,
                             password=password)
        session.flush()
        summary = f"staff user {staff.id} created: {staff.email} ({staff.role}"
        summary += f"; courses: {', '.join(staff.courses) or 'none'})" if staff.role == "reviewer" else ")"
    print(summary)
    return 0
