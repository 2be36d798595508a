"""The transaction of a change, shared with its audit event when a request makes it.

A service that changes records runs in :func:`change_transaction`. Called from a worker task, the
console or a script, that is its own durable transaction: it commits at the service's end, and no
caller can hold it open. Inside an API or admin request that may change something, ``AuditMiddleware``
has opened :func:`request_transaction` around the view, and the service joins it (as a savepoint), so
the change and the audit event that records it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_in_request = ContextVar("in_request_transaction", default=False)


@contextmanager
def change_transaction() -> Iterator[None]:
    """A service's transaction: durable on its own, a savepoint of the request's inside a request."""
    with transaction.atomic(durable=not _in_request.get()):
        yield


@contextmanager
def request_transaction() -> Iterator[None]:
    """One transaction for a whole request: the view's changes and the request's audit event."""
    token = _in_request.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        _in_request.reset(token)
