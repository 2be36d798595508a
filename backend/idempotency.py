"""``Idempotency-Key`` for POSTs that create bookings, invoices or payments.

The first request with a key runs; its answer (success or domain error) is
stored in the same transaction as its effects. A replay, even one sent while
the first is still running, waits for it and gets the same status and body
back, and nothing is done twice. A key reused with a different body is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from backend.errors import ApplicationError, problem_for_exception
from backend.models import IdempotencyRecord, User
from backend.transactions import change_transaction

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    http_status = 422
    title = "Idempotency key reused"


class InvalidIdempotencyKey(ApplicationError):
    code = "validation_error"
    http_status = 400


def _fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock(user_id: int, scope: str, key: str) -> None:
    digest = hashlib.sha256(f"{user_id}:{scope}:{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def run_idempotent(
    *, user: User, scope: str, key: str | None, payload: Any, perform: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``perform`` once per (user, scope, key); return its (status, body) or the stored first answer.

    ``perform`` runs in a savepoint: when it raises an ``ApplicationError`` its
    writes are undone and the error answer is what is stored. Services called
    from ``perform`` use plain ``transaction.atomic`` so they can nest here.
    """
    if key is None:
        return perform()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters.",
            errors={HEADER: ["Invalid key."]},
        )
    fingerprint = _fingerprint(payload)
    with change_transaction():
        _lock(user.pk, scope, key)
        stored = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"This {HEADER} was already used for a different request; use a new key for a new request."
                )
            return stored.status_code, stored.body
        try:
            with transaction.atomic():
                status, body = perform()
        except ApplicationError as error:
            mapped = problem_for_exception(error)
            assert mapped is not None  # noqa: S101 - every ApplicationError maps
            status, body = mapped
        body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        IdempotencyRecord.objects.create(
            user=user, scope=scope, key=key, fingerprint=fingerprint, status_code=status, body=body
        )
    return status, body


def idempotent_response(request: Any, *, scope: str, perform: Callable[[], tuple[int, Any]]) -> Any:
    """A DRF Response for ``perform``, honouring the request's ``Idempotency-Key`` header."""
    from rest_framework.response import Response

    from backend.errors import PROBLEM_CONTENT_TYPE
    from backend.permissions import acting_user

    status, body = run_idempotent(
        user=acting_user(request),
        scope=scope,
        key=request.headers.get(HEADER),
        payload=request.data,
        perform=perform,
    )
    return Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE if status >= 400 else None)
