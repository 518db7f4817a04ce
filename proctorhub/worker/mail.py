"""Sending email: over SMTP (STARTTLS, login from the environment), or to the log in development."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage

from .settings import MailSettings

log = logging.getLogger(__name__)

# Each step of an SMTP exchange may wait up to the timeout: before the first message, connecting,
# EHLO, STARTTLS, EHLO again and AUTH; for each message, MAIL, RCPT, DATA and the end of its text.
STEPS_TO_CONNECT = 5
STEPS_PER_MESSAGE = 4


class Mailer:
    def __init__(self, settings: MailSettings):
        self.settings = settings

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.from_address
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        return message

    def longest_send(self, count: int) -> dt.timedelta:
        """The longest ``send`` of ``count`` messages may take, each SMTP step taking up to the timeout."""
        return dt.timedelta(seconds=self.settings.timeout_seconds * (STEPS_TO_CONNECT + STEPS_PER_MESSAGE * count))

    def send(self, messages: list[EmailMessage], sent: Callable[[EmailMessage], None] | None = None) -> None:
        """Send every message over one connection, calling ``sent(message)`` as each one is done
        with (the server has accepted it, or refused its recipient), before the next one starts;
        ``OSError``/``smtplib.SMTPException`` if the server cannot be reached, refuses the login or
        drops the connection (the messages not yet done are for the caller to try again)."""
        if not messages:
            return
        sent = sent or (lambda message: None)
        settings = self.settings
        if settings.transport == "log":
            for message in messages:
                log.info("email (proctorhub.mail.transport = log) to %s: %s\n%s", message["To"],
                         message["Subject"], message.get_content())
                sent(message)
            return
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            for message in messages:
                try:
                    smtp.send_message(message)
                except smtplib.SMTPRecipientsRefused:
                    # One bad address must not hold back everyone else's digest (nor be tried again).
                    log.warning("email to %s refused by the SMTP server", message["To"])
                sent(message)
