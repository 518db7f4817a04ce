"""Events out to the LMS: Standard Webhooks receivers per lms, and their deliveries (DESIGN.md 5.5).

``service`` manages receivers and deliveries for the admin (``views``, below ``/admin/lms/{slug}``);
``fanout`` turns outbox events into deliveries and ``delivery`` sends them, both run by the worker
(``proctorhub.worker``); ``signing`` makes the Standard Webhooks headers.
"""


import sqlalchemy as sa

from ..models import Delivery, utcnow
from .delivery import waiting


def delivery_gauges(metrics, engine):
    """A scrape hook: the deliveries due and not yet delivered (to receivers that are enabled: a
    disabled one's are not waiting for a worker), and how long the oldest has been due (the
    database knows, whichever process delivers them)."""

    def read() -> None:
        now = utcnow()
        with engine.connect() as connection:
            pending, oldest = connection.execute(
                waiting(sa.func.count(), sa.func.min(Delivery.next_try_at), now=now)).one()
        metrics.deliveries_pending.set(pending)
        metrics.delivery_lag.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)

    return read


def includeme(config):
    registry = config.registry
    registry.metrics.add_scrape_hook(delivery_gauges(registry.metrics, registry["dbengine"]))
    config.include(".resources")
