"""Events out to the LMS: Standard Webhooks receivers per lms, and their deliveries (DESIGN.md 5.5).

``service`` manages receivers and deliveries for the admin (``views``, below ``/admin/lms/{slug}``);
``fanout`` turns outbox events into deliveries and ``delivery`` sends them, both run by the worker
(``proctorhub.worker``); ``signing`` makes the Standard Webhooks headers.
"""


def includeme(config):
    config.include(".resources")
