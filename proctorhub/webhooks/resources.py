"""The admin's tree below an lms: ``/admin/lms/{slug}/webhooks/{id}`` and the deliveries.

    /admin/lms/{slug}/webhooks/                         the lms's receivers
    /admin/lms/{slug}/webhooks/{id}                     one receiver (view rotate-secret)
    /admin/lms/{slug}/webhooks/{id}/deliveries/         its deliveries
    /admin/lms/{slug}/webhooks/{id}/deliveries/{id}     one delivery (view replay)
    /admin/lms/{slug}/deliveries/                       every delivery of the lms
    /admin/lms/{slug}/deliveries/{id}                   one delivery (view replay)

Everything belongs to the lms above it: a receiver or delivery of another lms is a 404 as if it did
not exist (``unknown_webhook``, ``unknown_delivery``). Admins only (the lms's ACL).
"""

from __future__ import annotations

from ..admin.resources import Item, LmsResource, Resource
from ..schemas import parse_row_id
from . import service


class DeliveryResource(Item):
    pass


class DeliveriesResource(Resource):
    """The deliveries of an lms, or of one of its receivers (``endpoint_id``)."""

    def __init__(self, request, name, parent, *, lms, endpoint_id=None):
        super().__init__(request, name, parent)
        self.lms = lms
        self.endpoint_id = endpoint_id

    def __getitem__(self, name):
        delivery = service.get_delivery(self.request.dbsession, self.lms.id, parse_row_id(name), self.endpoint_id)
        return DeliveryResource(self.request, name, self, delivery)


class WebhookResource(Item):
    @property
    def lms(self):
        return self.__parent__.lms

    def __getitem__(self, name):
        if name != "deliveries":
            raise KeyError(name)  # a view name (rotate-secret) or a 404
        return DeliveriesResource(self.request, name, self, lms=self.lms, endpoint_id=self.row.id)


class WebhooksResource(Resource):
    @property
    def lms(self):
        return self.__parent__.row

    def __getitem__(self, name):
        endpoint = service.get_endpoint(self.request.dbsession, self.lms.id, parse_row_id(name))
        return WebhookResource(self.request, name, self, endpoint)


def _lms_deliveries(request, name, parent):
    return DeliveriesResource(request, name, parent, lms=parent.row)


def includeme(config):
    LmsResource.children = {**LmsResource.children, "webhooks": WebhooksResource, "deliveries": _lms_deliveries}
