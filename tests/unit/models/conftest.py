"""A request's transaction, for the tests of writes outside the ORM."""

from __future__ import annotations

import pytest
import transaction
from transaction.interfaces import NoTransaction

from proctorhub.models import get_session_factory, get_tm_session


@pytest.fixture
def tm():
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    yield manager
    try:
        manager.get()
    except NoTransaction:
        return  # committed by the test
    manager.abort()


@pytest.fixture
def request_session(dbengine, tm):
    """A session joined to a transaction manager, as a request's is."""
    return get_tm_session(get_session_factory(dbengine), tm)
