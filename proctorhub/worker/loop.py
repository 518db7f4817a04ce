"""The worker: hands outbox events to webhook receivers, sends them, mails digests, purges.

``proctorhub worker INI`` runs one until SIGTERM or SIGINT; ``make serve`` runs one in a thread of
the web process (``proctorhub.worker.embedded = true``). Any number may run against one PostgreSQL
database: each step claims its rows (``FOR UPDATE SKIP LOCKED``, leases, one schedule row), so
nothing is sent twice by two workers, and a worker that dies loses nothing (its claims run out).
On SQLite run one.

Every step takes its time from ``clock`` (the tests move it instead of sleeping).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import retention
from ..models import utcnow
from ..outbound import Fetcher
from ..webhooks import delivery, fanout
from ..webhooks.secrets import SecretBox
from . import digest
from .mail import Mailer
from .settings import WorkerSettings

log = logging.getLogger(__name__)

# After an unexpected error (the database down, say) the loop waits this long before the next round.
ERROR_PAUSE_SECONDS = 5.0
# A claim outlives the longest its sends may take by this margin.
LEASE_MARGIN = dt.timedelta(seconds=30)
# Expired rows are purged this often (by each worker; the purge deletes in small batches).
PURGE_EVERY = dt.timedelta(minutes=10)


@dataclass
class RoundResult:
    handed_out: int = 0
    sent: int = 0
    delivered: int = 0
    emails: int = 0
    purged: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.handed_out or self.sent)


def purge_expired(engine, app_settings, *, now: dt.datetime) -> int:
    """The purge hook: expired rows go through ``retention.purge``, the same function as
    ``proctorhub purge``; how many rows went."""
    return sum(retention.purge(engine, app_settings, now=now).values())


class Worker:
    def __init__(self, session_factory, app_settings, settings: WorkerSettings, *, fetcher=None,
                 mailer=None, box: SecretBox | None = None, clock=utcnow, purge=purge_expired, metrics=None):
        self.session_factory = session_factory
        self.app_settings = app_settings
        self.settings = settings
        self.fetcher = fetcher or Fetcher.from_settings(app_settings)
        self.mailer = mailer or Mailer(settings.mail)
        self.box = box or SecretBox.from_settings(app_settings)
        self.clock = clock
        self.purge = purge
        # The web process's metrics when the worker runs inside it (its tries are counted there).
        self.metrics = metrics
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="proctorhub-send")
        self._next_purge: dt.datetime | None = None

    def transaction(self):
        """A session that commits when the block ends without error, rolls back otherwise, and closes."""
        return self.session_factory.begin()

    # -- the steps of a round ------------------------------------------------------------

    def hand_out(self) -> int:
        with self.transaction() as session:
            return fanout.hand_out(session, now=self.clock(), limit=self.settings.batch_size * 5)

    def deliver_due(self) -> tuple[int, int]:
        """Claim, send and record one batch; answer (sent, delivered)."""
        settings = self.settings
        now = self.clock()
        # The lanes share one pool of sending threads: a batch may wait behind every other lane's
        # before its last send starts, and the lease must outlast that.
        waves = math.ceil(settings.batch_size * settings.lanes / settings.concurrency)
        lease_until = now + dt.timedelta(seconds=settings.timeout_seconds * waves) + LEASE_MARGIN
        with self.transaction() as session:
            outgoing = delivery.claim(session, self.box, now=now, limit=settings.batch_size, lease_until=lease_until)
        if not outgoing:
            return 0, 0
        results = self._send_all(outgoing)
        with self.transaction() as session:
            delivery.record(session, results, now=self.clock(), schedule=settings.retry_schedule,
                            disable_after=settings.disable_after)
        delivered = sum(1 for r in results if r.ok)
        if self.metrics is not None:
            self.metrics.deliveries.labels(outcome="delivered").inc(delivered)
            self.metrics.deliveries.labels(outcome="failed").inc(len(results) - delivered)
        return len(results), delivered

    def _send_all(self, outgoing: list) -> list:
        """Send a batch, ``concurrency`` at a time, on the pool's threads: each takes the next
        delivery itself (a lock and an iterator), not a future per delivery, whose bookkeeping
        costs more than signing the delivery when the receiver is near. The results are in the
        batch's order; ``delivery.send`` never raises."""
        results: list = [None] * len(outgoing)
        pending = iter(enumerate(outgoing))
        take = threading.Lock()
        timeout = self.settings.timeout_seconds

        def sender() -> None:
            while True:
                with take:
                    item = next(pending, None)
                if item is None:
                    return
                index, claimed = item
                results[index] = delivery.send(self.fetcher, claimed, timeout=timeout)

        for running in [self._pool.submit(sender) for _ in range(min(self.settings.concurrency, len(outgoing)))]:
            running.result()
        return results

    def send_digests(self) -> int:
        mail = self.settings.mail
        return digest.run(self.transaction, self.mailer, now=self.clock(), interval=mail.digest_interval,
                          base_url=self.app_settings.issuer, clock=self.clock)

    def purge_expired_rows(self) -> int:
        now = self.clock()
        if self.purge is None or (self._next_purge is not None and now < self._next_purge):
            return 0
        self._next_purge = now + PURGE_EVERY
        return self.purge(self.session_factory.kw["bind"], self.app_settings, now=now)

    def run_once(self) -> RoundResult:
        result = RoundResult()
        result.handed_out = self.hand_out()
        result.sent, result.delivered = self.deliver_due()
        result.emails = self.send_digests()
        result.purged = self.purge_expired_rows()
        return result

    def run_until_idle(self, max_rounds: int = 1000) -> RoundResult:
        """Rounds until one finds nothing due (the tests' way of letting the worker catch up)."""
        total = RoundResult()
        for _ in range(max_rounds):
            result = self.run_once()
            for name in ("handed_out", "sent", "delivered", "emails", "purged"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if not result.busy:
                break
        return total

    def run(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set; a round in flight is finished first (its sends are recorded).

        Besides the thread running whole rounds, ``lanes - 1`` threads only claim, send and record
        deliveries, so that one lane's database work overlaps another's sends."""
        log.info("worker started")
        # Everything made so far (modules, mappers, compiled statements, settings) lives as long as
        # the process. Frozen, it is left out of the collector's full passes, which otherwise scan
        # it all every so often: 75-150 ms each, a tenth of the worker's time under load.
        gc.freeze()
        lanes = [threading.Thread(target=self._delivery_lane, args=(stop,), name=f"proctorhub-lane-{n}", daemon=True)
                 for n in range(1, self.settings.lanes)]
        for lane in lanes:
            lane.start()
        self._loop(stop, self.run_once)
        for lane in lanes:
            lane.join()
        log.info("worker stopped")

    def _delivery_lane(self, stop: threading.Event) -> None:
        self._loop(stop, self.deliver_due)

    def _loop(self, stop: threading.Event, step) -> None:
        while not stop.is_set():
            try:
                result = step()
            except Exception:
                log.exception("worker round failed; the next one starts in %s s", ERROR_PAUSE_SECONDS)
                stop.wait(ERROR_PAUSE_SECONDS)
                continue
            busy = result.busy if isinstance(result, RoundResult) else bool(result[0])
            if not busy:
                stop.wait(self.settings.poll_seconds)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
