"""The platform as tools see it: the ``tool_platform`` claim of every launch and the product
family of the discovery document."""

from __future__ import annotations

import functools
import uuid

from .. import __version__

PRODUCT_FAMILY_CODE = "proctorhub"


@functools.cache
def tool_platform(issuer: str) -> dict:
    """``guid`` is stable for an issuer (a name-based UUID of it): one deployment, one platform."""
    return {"guid": str(uuid.uuid5(uuid.NAMESPACE_URL, issuer)), "name": "proctorhub",
            "product_family_code": PRODUCT_FAMILY_CODE, "version": __version__}
