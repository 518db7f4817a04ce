"""Email digests of reviews that need attention, through a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from proctorhub.attempts import lifecycle
from proctorhub.models import WorkerSchedule, WorkerScheduleSent
from proctorhub.worker import digest

from ... import factories as f


class Inbox:
    def __init__(self):
        self.messages = []
        # After this many messages the server says 421 and closes the connection, once.
        self.drop_after: int | None = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None
            return "421 4.3.2 Service shutting down, closing the connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address):
        return [message for rcpts, message in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def mail_worker(make_worker, inbox):
    return make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                          "proctorhub.mail.port": str(inbox.port), "proctorhub.mail.starttls": "false",
                          "proctorhub.mail.from_address": "proctorhub@hub.example.edu",
                          "proctorhub.mail.digest_interval_seconds": "3600"})


def needs_attention(dbsession, course, user_id, status="second_review_required"):
    attempt = f.attempt(dbsession, f.exam(dbsession, context_id=course, name=f"Exam of {course}"), user_id=user_id)
    lifecycle.move(dbsession, attempt, status, reason="test")
    dbsession.commit()
    return attempt


def test_one_digest_per_interval_to_the_courses_reviewers_and_opted_in_admins(dbsession, inbox, mail_worker, clock):
    f.staff(dbsession, email="rev-a@example.edu", courses=["course-A"])
    f.staff(dbsession, email="rev-b@example.edu", courses=["course-B"])
    f.staff(dbsession, email="boss@example.edu", role="admin", email_digest=True)
    f.staff(dbsession, email="quiet@example.edu", role="admin")
    first = needs_attention(dbsession, "course-A", "learner-1")
    needs_attention(dbsession, "course-A", "learner-2", status="error")
    mail_worker.run_once()

    [to_reviewer] = inbox.to("rev-a@example.edu")
    [to_admin] = inbox.to("boss@example.edu")
    assert inbox.to("rev-b@example.edu") == [] and inbox.to("quiet@example.edu") == []
    text = to_reviewer.get_content()
    assert "2 reviews need attention" in to_reviewer["Subject"]
    assert to_reviewer["From"] == "proctorhub@hub.example.edu"
    assert "/admin/reviews/?lms=default&course=course-A" in text
    assert f"/admin/attempts/{first.attempt_code}" in text
    assert "second review required" in text and "error" in text
    assert "course-A" in to_admin.get_content()

    # More need attention within the interval: nothing yet.
    needs_attention(dbsession, "course-A", "learner-3")
    needs_attention(dbsession, "course-B", "learner-4")
    mail_worker.run_once()
    clock.advance(minutes=59)
    mail_worker.run_once()
    assert len(inbox.messages) == 2
    # The interval is over: one more each, listing only what is new.
    clock.advance(minutes=2)
    mail_worker.run_once()
    mail_worker.run_once()
    assert len(inbox.to("rev-a@example.edu")) == 2 and len(inbox.to("rev-b@example.edu")) == 1
    second = inbox.to("rev-a@example.edu")[1].get_content()
    assert "learner-3" in second or "Exam of course-A" in second
    assert "1 review needs attention" in inbox.to("rev-a@example.edu")[1]["Subject"]
    assert "course-B" not in second
    assert len(inbox.to("boss@example.edu")) == 2


def test_an_attempt_settled_before_the_digest_is_not_listed(dbsession, inbox, mail_worker):
    f.staff(dbsession, email="rev-a@example.edu", courses=["course-A"])
    attempt = needs_attention(dbsession, "course-A", "learner-1")
    lifecycle.move(dbsession, attempt, "verified", reason="second review")
    dbsession.commit()
    mail_worker.run_once()
    assert inbox.messages == []


def test_an_unreachable_smtp_server_leaves_the_digest_due(dbsession, make_worker, inbox):
    f.staff(dbsession, email="rev-a@example.edu", courses=["course-A"])
    needs_attention(dbsession, "course-A", "learner-1")
    broken = make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                            "proctorhub.mail.port": str(free_port()), "proctorhub.mail.starttls": "false"})
    assert broken.run_once().emails == 0
    working = make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                             "proctorhub.mail.port": str(inbox.port), "proctorhub.mail.starttls": "false"})
    assert working.run_once().emails == 1
    assert len(inbox.to("rev-a@example.edu")) == 1


def test_a_connection_dropped_mid_digest_mails_no_one_twice(dbsession, inbox, mail_worker, make_worker, clock):
    staff = [f"rev-{n}@example.edu" for n in "abc"]
    for address in staff:
        f.staff(dbsession, email=address, courses=["course-A"])
    needs_attention(dbsession, "course-A", "learner-1")
    inbox.drop_after = 2
    assert mail_worker.run_once().emails == 2
    assert [rcpts for rcpts, _ in inbox.messages] == [[staff[0]], [staff[1]]]
    # Who got theirs is in the database, for whichever worker retries the round.
    dbsession.rollback()
    assert sorted(dbsession.execute(select(WorkerScheduleSent.recipient)).scalars()) == staff[:2]

    # Something new needs attention before the retry: it waits for the next interval, for everyone.
    needs_attention(dbsession, "course-A", "learner-2")
    other = make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                           "proctorhub.mail.port": str(inbox.port), "proctorhub.mail.starttls": "false"})
    assert other.run_once().emails == 1
    assert mail_worker.run_once().emails == 0
    assert [len(inbox.to(address)) for address in staff] == [1, 1, 1]
    assert all("1 review needs attention" in inbox.to(address)[0]["Subject"] for address in staff)
    dbsession.rollback()
    assert dbsession.execute(select(func.count()).select_from(WorkerScheduleSent)).scalar_one() == 0

    clock.advance(minutes=61)
    assert mail_worker.run_once().emails == 3
    assert [len(inbox.to(address)) for address in staff] == [2, 2, 2]


class Killed(BaseException):
    """The worker's process dying: nothing of proctorhub's catches it, as nothing runs after a kill -9."""


def test_a_worker_killed_mid_digest_has_recorded_whom_it_mailed(dbsession, inbox, mail_worker, make_worker, clock,
                                                               monkeypatch):
    staff = [f"rev-{n}@example.edu" for n in "abcd"]
    for address in staff:
        f.staff(dbsession, email=address, courses=["course-A"])
    needs_attention(dbsession, "course-A", "learner-1")
    accepted = []
    send_message = smtplib.SMTP.send_message

    def dies_after_two(smtp, message, *args, **kwargs):
        if len(accepted) == 2:
            raise Killed
        accepted.append(send_message(smtp, message, *args, **kwargs))

    monkeypatch.setattr(smtplib.SMTP, "send_message", dies_after_two)
    with pytest.raises(Killed):
        mail_worker.run_once()
    monkeypatch.undo()
    assert [rcpts for rcpts, _ in inbox.messages] == [[staff[0]], [staff[1]]]
    # Each was committed as soon as the server took their email, not with the round.
    dbsession.rollback()
    assert sorted(dbsession.execute(select(WorkerScheduleSent.recipient)).scalars()) == staff[:2]

    newer = needs_attention(dbsession, "course-A", "learner-2")
    other = make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                           "proctorhub.mail.port": str(inbox.port), "proctorhub.mail.starttls": "false"})
    # The dead worker's lease holds the round: no one mails beside a worker that may still be sending.
    assert other.run_once().emails == 0
    # Once it runs out, another worker takes the round up: the same events, only those not mailed.
    clock.advance(minutes=15)
    assert other.run_once().emails == 2
    assert [len(inbox.to(address)) for address in staff] == [1, 1, 1, 1]
    assert all("1 review needs attention" in inbox.to(address)[0]["Subject"] for address in staff)
    dbsession.rollback()
    assert dbsession.execute(select(func.count()).select_from(WorkerScheduleSent)).scalar_one() == 0

    # The interval started when the round ended: learner-2 waits for the next digest, to everyone.
    assert mail_worker.run_once().emails == 0
    clock.advance(minutes=61)
    assert mail_worker.run_once().emails == 4
    assert all(newer.attempt_code in inbox.to(address)[1].get_content() for address in staff)
    assert all(newer.attempt_code not in inbox.to(address)[0].get_content() for address in staff)


def test_a_worker_whose_lease_ran_out_writes_nothing_over_the_round_taken_from_it(dbsession, inbox, mail_worker,
                                                                                 make_worker, clock):
    staff = [f"rev-{n}@example.edu" for n in "ab"]
    for address in staff:
        f.staff(dbsession, email=address, courses=["course-A"])
    needs_attention(dbsession, "course-A", "learner-1")
    interval = mail_worker.settings.mail.digest_interval
    with mail_worker.transaction() as session:  # it claims the round, then stalls past its lease
        stalled = digest.claim(session, mail_worker.mailer, now=clock.now, interval=interval, base_url="")
    assert len(stalled.messages) == 2
    clock.advance(minutes=15)
    other = make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                           "proctorhub.mail.port": str(inbox.port), "proctorhub.mail.starttls": "false"})
    assert other.run_once().emails == 2
    dbsession.rollback()
    row = dbsession.get(WorkerSchedule, digest.JOB)
    ended = (row.cursor, row.round_until, row.next_run_at)
    assert ended[1] is None and ended[2] > clock.now

    # The stalled worker comes back: whom it mails is not recorded, nor does it end or release the round.
    with pytest.raises(digest.LeaseLost), mail_worker.transaction() as session:
        digest.record_mailed(session, stalled, staff[0], now=clock.now)
    with mail_worker.transaction() as session:
        digest.release(session, stalled, now=clock.now)
    with mail_worker.transaction() as session:
        digest.finish(session, stalled, next_run_at=clock.now)
    dbsession.expire_all()
    assert dbsession.execute(select(func.count()).select_from(WorkerScheduleSent)).scalar_one() == 0
    row = dbsession.get(WorkerSchedule, digest.JOB)
    assert (row.cursor, row.round_until, row.next_run_at) == ended


def test_the_lease_is_one_messages_long_and_renewed_as_each_is_recorded(dbsession, inbox, mail_worker, make_worker,
                                                                        clock):
    # A round for many staff must not hold up the digest for hours when its worker dies.
    staff = [f"rev-{n:02d}@example.edu" for n in range(40)]
    for address in staff:
        f.staff(dbsession, email=address, courses=["course-A"])
    needs_attention(dbsession, "course-A", "learner-1")
    interval = mail_worker.settings.mail.digest_interval
    claimed_at = clock.now
    with mail_worker.transaction() as session:
        round_ = digest.claim(session, mail_worker.mailer, now=claimed_at, interval=interval, base_url="")
    assert len(round_.messages) == 40
    one_message = mail_worker.mailer.longest_send(1) + digest.LEASE_MARGIN
    assert round_.lease_until == claimed_at + one_message

    recorded_at = clock.advance(minutes=1)
    with mail_worker.transaction() as session:
        digest.record_mailed(session, round_, staff[0], now=recorded_at)
    dbsession.rollback()
    assert dbsession.get(WorkerSchedule, digest.JOB).next_run_at == recorded_at + one_message == round_.lease_until

    # The worker dies here: another takes the round up once one message's lease has run out.
    other = make_worker(**{"proctorhub.mail.transport": "smtp", "proctorhub.mail.host": "127.0.0.1",
                           "proctorhub.mail.port": str(inbox.port), "proctorhub.mail.starttls": "false"})
    assert other.run_once().emails == 0
    clock.advance(seconds=one_message.total_seconds())
    assert other.run_once().emails == 39
    assert sorted(rcpts[0] for rcpts, _ in inbox.messages) == staff[1:]


def test_a_worker_that_loses_its_lease_stops_mailing(dbsession, inbox, mail_worker, make_worker, clock, monkeypatch):
    staff = [f"rev-{n}@example.edu" for n in "abc"]
    for address in staff:
        f.staff(dbsession, email=address, courses=["course-A"])
    needs_attention(dbsession, "course-A", "learner-1")
    send_message = smtplib.SMTP.send_message

    def taken_over_after_the_first(smtp, message, *args, **kwargs):
        answer = send_message(smtp, message, *args, **kwargs)
        # Meanwhile another worker found the lease run out and took the round.
        with mail_worker.transaction() as session:
            session.get(WorkerSchedule, digest.JOB).next_run_at = clock.now
        return answer

    monkeypatch.setattr(smtplib.SMTP, "send_message", taken_over_after_the_first)
    assert mail_worker.run_once().emails == 0
    assert len(inbox.messages) == 1  # the one in flight when the lease was lost, and no more
    dbsession.rollback()
    assert dbsession.execute(select(func.count()).select_from(WorkerScheduleSent)).scalar_one() == 0
