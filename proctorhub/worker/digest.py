"""The email digest: reviews that need attention, sent to the staff of their courses once per interval.

A review needs attention when its attempt went to ``second_review_required`` or ``error`` (the
``review.needs_attention`` events of the outbox). Each round the job is due, it reads the events
since the last digest, and every reviewer of a course among them (and every admin who asked for
the digest, ``staff_user.email_digest``) gets one email listing the course's attempts that still
need attention, with links to the review and to the course's queue. The job's schedule and
position in the outbox are one row (``worker_schedule``) that a worker claims, so several workers
send one digest per interval between them. A digest is due again as soon as something new needs
attention, but at most once per ``proctorhub.mail.digest_interval_seconds``.

A round is claimed, mailed and ended in short transactions of its own, none of them open while
the SMTP server is talked to. The claim commits the last event the round reads (``round_until``)
and a lease (``next_run_at``, past the longest connecting and sending one message may take), so no
other worker starts the round meanwhile. As soon as the SMTP server has accepted a message, its
recipient is recorded as mailed (``worker_schedule_sent``) and the lease renewed for the next
message, in a transaction of its own (an UPDATE, an INSERT and the COMMIT). A worker that finds its
lease gone (another worker took the round over) stops mailing.

A round cut short, by the SMTP server (it cannot be reached, or drops the connection partway: the
round is due again at once) or by the worker dying (the round is due again when its lease runs out,
minutes later however many staff the round mails), is taken up by the next round, of any worker:
it reads the same events and mails only those not recorded, so no one gets a round's digest twice.
The round ends, and the interval starts, once everyone has theirs.

What can still send twice: a worker killed after the SMTP server accepted a message and before
that recipient's COMMIT (or one whose database fails in that instant) has mailed someone the
database does not know of, and the round's retry mails them again. That window is one UPDATE, one
INSERT and their COMMIT; no order of writes closes it, since the server's acceptance and the database's
commit cannot be one step. A worker still sending when its lease runs out (every SMTP step near
its timeout) may share the round's last recipients with the worker that takes the round over;
whatever it writes from then on (recorded recipients, the round's end) is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy import delete, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from ..events import ATTENTION_STATUSES
from ..models import Attempt, Event, EventKind, Exam, Lms, Review, Role, StaffCourse, StaffUser
from ..models.webhook import WorkerSchedule, WorkerScheduleSent

log = logging.getLogger(__name__)

JOB = "email_digest"
EVENTS_PER_DIGEST = 5000
# A round's lease outlasts the longest its SMTP exchange may take by this margin.
LEASE_MARGIN = dt.timedelta(seconds=30)

# Written into the SQL, not bound: the partial index ix_event_needs_attention (WHERE kind =
# 'review.needs_attention') then serves the query even under a prepared statement's generic plan.
NEEDS_ATTENTION = literal_column(f"'{EventKind.review_needs_attention.value}'")

schedule_t = WorkerSchedule.__table__
sent_t = WorkerScheduleSent.__table__
_this_job = schedule_t.c.name == JOB


@dataclass(frozen=True)
class Item:
    lms_id: int
    lms_slug: str
    context_id: str
    attempt_code: str
    attempt_status: str
    user: str
    exam: str
    review_id: int | None


def _schedule_row(session, now: dt.datetime) -> WorkerSchedule | None:
    """The job's row, locked for this worker, if it is due; None if not due or another worker has it.

    Asked every worker round, busy or not: a row that is not due is not locked (on PostgreSQL a
    row lock is a write)."""
    due = (select(WorkerSchedule).where(WorkerSchedule.name == JOB, WorkerSchedule.next_run_at <= now)
           .with_for_update(skip_locked=True))
    row = session.execute(due).scalar_one_or_none()
    if row is not None or session.execute(select(schedule_t.c.name).where(_this_job)).first() is not None:
        return row  # due and ours; or not due, or another worker's
    try:
        with session.begin_nested():
            session.add(WorkerSchedule(name=JOB, next_run_at=now, cursor=0))
    except IntegrityError:
        return None  # another worker made it first
    return session.execute(due).scalar_one_or_none()


def _items(session, events: list[Event]) -> list[Item]:
    """The attempts of ``events`` that still need attention (a second review may have settled some)."""
    attempt_ids = {e.attempt_id for e in events if e.attempt_id is not None}
    if not attempt_ids:
        return []
    rows = session.execute(
        select(Attempt, Review.id, Lms.slug).join(Exam, Attempt.exam_id == Exam.id).join(Lms, Lms.id == Exam.lms_id)
        .outerjoin(Review, Review.attempt_id == Attempt.id)
        .where(Attempt.id.in_(attempt_ids), Attempt.status.in_(ATTENTION_STATUSES))
        .order_by(Attempt.id)).all()
    return [Item(lms_id=attempt.exam.lms_id, lms_slug=slug, context_id=attempt.exam.context_id,
                 attempt_code=attempt.attempt_code, attempt_status=attempt.status,
                 user=attempt.user_email or attempt.user_name or attempt.user_id, exam=attempt.exam.name,
                 review_id=review_id) for attempt, review_id, slug in rows]


def _recipients(session, courses: set[tuple[int, str]]) -> dict[str, set[tuple[int, str]]]:
    """Email address → the courses (lms id, context id) of ``courses`` that person is told about."""
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    lms_ids = {lms_id for lms_id, _ in courses}
    rows = session.execute(
        select(StaffUser.email, StaffCourse.lms_id, StaffCourse.context_id)
        .join(StaffCourse, StaffCourse.staff_user_id == StaffUser.id)
        .where(StaffUser.role == Role.reviewer.value, StaffCourse.lms_id.in_(lms_ids))).all()
    for email, lms_id, context_id in rows:
        if (lms_id, context_id) in courses:
            found[email].add((lms_id, context_id))
    for (email,) in session.execute(select(StaffUser.email).where(StaffUser.role == Role.admin.value,
                                                                  StaffUser.email_digest.is_(True))).all():
        found[email] |= courses
    return found


def compose(mailer, base_url: str, email: str, items: list[Item]):
    by_course: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in items:
        by_course[(item.lms_slug, item.context_id)].append(item)
    lines = ["These proctored exam attempts need a person: a second review is required, or the review",
             "ended in an error.", ""]
    for (slug, context_id), course_items in sorted(by_course.items()):
        query = urlencode({"lms": slug, "course": context_id})
        lines.append(f"Course {context_id or '(none)'} of lms {slug}: {len(course_items)}")
        lines.append(f"  the course's queue: {base_url}/admin/reviews/?{query}")
        for item in course_items:
            link = f"{base_url}/admin/reviews/{item.review_id}" if item.review_id else \
                f"{base_url}/admin/attempts/{item.attempt_code}"
            lines.append(f"  - {item.exam}: {item.user}, {item.attempt_status.replace('_', ' ')}  {link}")
        lines.append("")
    count = len(items)
    subject = f"proctorhub: {count} review{'s' if count != 1 else ''} need{'s' if count == 1 else ''} attention"
    return mailer.message(email, subject, "\n".join(lines))


@dataclass
class Round:
    """A claimed round: its emails, the last event it read, and the lease that keeps it this
    worker's (``lease_until``, moved on as each message is recorded; ``lease`` long)."""

    messages: list[EmailMessage]
    until_event_id: int
    lease_until: dt.datetime
    lease: dt.timedelta
    attempts: int


class LeaseLost(Exception):
    """The round's lease ran out and another worker took the round: this one stops mailing."""


def _end_round(session, *, until: int, next_run_at: dt.datetime, where) -> bool:
    """The round ends (the cursor moves to ``until``; who was mailed is forgotten), if ``where``
    still holds for the schedule row; whether it did."""
    ended = session.execute(update(schedule_t).where(where).values(
        cursor=until, round_until=None, next_run_at=next_run_at))
    if ended.rowcount != 1:
        return False
    session.execute(delete(sent_t).where(sent_t.c.name == JOB))
    return True


def claim(session, mailer, *, now: dt.datetime, interval: dt.timedelta, base_url: str) -> Round | None:
    """The round to mail, if the digest is due and someone is to be mailed, leased to this worker
    when ``session`` commits; None otherwise (a round with no one left to mail ends here)."""
    row = _schedule_row(session, now)
    if row is None:
        return None
    query = (select(Event).where(Event.id > row.cursor, Event.kind == NEEDS_ATTENTION)
             .order_by(Event.id).limit(EVENTS_PER_DIGEST))
    if row.round_until is not None:
        query = query.where(Event.id <= row.round_until)
    events = list(session.execute(query).scalars())
    if not events:
        if row.round_until is not None:  # its events were purged meanwhile: nothing is left to tell
            _end_round(session, until=row.round_until, next_run_at=now + interval, where=_this_job)
        return None
    items = _items(session, events)
    recipients = _recipients(session, {(i.lms_id, i.context_id) for i in items}) if items else {}
    mailed = set() if row.round_until is None else set(session.execute(
        select(WorkerScheduleSent.recipient).where(WorkerScheduleSent.name == row.name)).scalars())
    messages = [compose(mailer, base_url, email, [i for i in items if (i.lms_id, i.context_id) in courses])
                for email, courses in sorted(recipients.items()) if email not in mailed]
    if not messages:
        if mailed:  # a worker died after mailing the last of them: everyone has theirs
            ends_at = now + interval
        else:  # nobody to tell of these: the cursor moves on and the job stays due
            ends_at = row.next_run_at
        _end_round(session, until=events[-1].id, next_run_at=ends_at, where=_this_job)
        return None
    row.round_until = events[-1].id
    lease = mailer.longest_send(1) + LEASE_MARGIN
    row.next_run_at = now + lease
    return Round(messages=messages, until_event_id=row.round_until, lease_until=row.next_run_at, lease=lease,
                 attempts=len(items))


def record_mailed(session, round_: Round, recipient: str, *, now: dt.datetime) -> None:
    """``recipient`` has this round's email: the round's retry passes them by, and the lease is
    renewed for the next message. ``LeaseLost``, writing nothing, once the lease is no longer this
    worker's: the worker that took the round over mails from its own list, and a row left after its
    round would keep the recipient from the next."""
    renewed = now + round_.lease
    if session.execute(update(schedule_t).where(_still_ours(round_)).values(next_run_at=renewed)).rowcount != 1:
        raise LeaseLost(f"the email digest's lease ran out before {recipient} was recorded")
    session.execute(insert(sent_t).values(name=JOB, recipient=recipient))
    round_.lease_until = renewed


def _still_ours(round_: Round):
    return (schedule_t.c.name == JOB) & (schedule_t.c.next_run_at == round_.lease_until)


def release(session, round_: Round, *, now: dt.datetime) -> None:
    """The round was cut short: it is due again at once, for any worker (unless its lease ran out
    and another worker has it now)."""
    session.execute(update(schedule_t).where(_still_ours(round_)).values(next_run_at=now))


def finish(session, round_: Round, *, next_run_at: dt.datetime) -> None:
    """Everyone has their email: the round ends, and the next one is due at ``next_run_at``."""
    if not _end_round(session, until=round_.until_event_id, next_run_at=next_run_at, where=_still_ours(round_)):
        log.warning("email digest: the round's lease ran out while it was sent; the worker that took it over ends it")


def run(transaction, mailer, *, now: dt.datetime, interval: dt.timedelta, base_url: str, clock=None) -> int:
    """Send the digest if it is due and something needs attention; answer how many emails went.

    ``transaction()`` opens each of the round's transactions (a session that commits when its block
    ends): the claim, one per recipient as the SMTP server accepts their email, and the round's end.
    An SMTP server that cannot be reached, or that drops the connection partway, leaves the round
    due for the next one; any other error leaves it to the next worker once its lease runs out.
    ``clock()`` (default: ``now`` throughout) times the lease's renewals."""
    clock = clock or (lambda: now)
    with transaction() as session:
        round_ = claim(session, mailer, now=now, interval=interval, base_url=base_url)
    if round_ is None:
        return 0
    sent = 0

    def record(message) -> None:
        nonlocal sent
        with transaction() as session:
            record_mailed(session, round_, str(message["To"]), now=clock())
        sent += 1

    try:
        mailer.send(round_.messages, sent=record)
    except LeaseLost as lost:
        log.warning("email digest stopped after %d of %d staff: %s; the worker that took the round over "
                    "mails the others", sent, len(round_.messages), lost)
        return sent
    except OSError as error:  # smtplib's errors are OSErrors too
        with transaction() as session:
            release(session, round_, now=now)
        log.warning("email digest sent to %d of %d staff (%s: %s); the others are tried next round",
                    sent, len(round_.messages), type(error).__name__, error)
        return sent
    with transaction() as session:
        finish(session, round_, next_run_at=now + interval)
    log.info("email digest sent to %d staff about %d attempts", len(round_.messages), round_.attempts)
    return len(round_.messages)
