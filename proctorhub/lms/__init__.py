"""Lmss as tenants: ``request.lms``, the lms an LMS API call acts within (see ``service``)."""

from .service import LmsRef, lms_of_request  # noqa: F401


def includeme(config):
    config.add_request_method(lms_of_request, "lms", reify=True)
