"""The transaction of a change, shared with its audit event when a request makes it.

A service that changes records runs in :func:`change_transaction`. Called from a worker task, the
console or a script, that is its own durable transaction: it commits at the service's end, and no
caller can hold it open. Inside an API or admin request that may change something, ``AuditMiddleware``
has opened :func:`request_transaction` around the view, and the service joins it (as a savepoint), so
the change and the audit event that records it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http import HTTPStatus

from django.db import transaction
from django.http import HttpResponse

_in_request = ContextVar("in_request_transaction", default=False)


@contextmanager
def change_transaction() -> Iterator[None]:
    """A service's transaction: durable on its own, a savepoint of the request's inside a request."""
    with transaction.atomic(durable=not _in_request.get()):
        yield


def request_transaction(respond: Callable[[], HttpResponse]) -> HttpResponse:
    """Answer a request in one transaction: the view's changes and the request's audit event. An answer of
    5xx keeps none of it; a database error propagates after the rollback, for the caller to answer."""
    token = _in_request.set(True)
    try:
        with transaction.atomic():
            response = respond()
            if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
                transaction.set_rollback(True)
            return response
    finally:
        _in_request.reset(token)
