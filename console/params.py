"""Query and form values as the console reads them: junk is a clear 400 page, never a 500.

Forms that do what an API request does are read by that request's own serializer (``form_data``,
``validated``);
the API's field rules and messages then hold in the console as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, QueryDict
from rest_framework import serializers

from backend.errors import ApplicationError, ValidationFailed
from backend.fields import YEAR_RANGE_MESSAGE, in_year_range
from backend.idempotency import run_idempotent
from backend.models import User

M = TypeVar("M", bound=Model)


def parse_day(value: str | None, *, default: date, name: str = "date") -> date:
    """A YYYY-MM-DD date in the years the API accepts (``default`` when absent)."""
    return parse_optional_day(value, name=name) or default


def parse_optional_day(value: str | None, *, name: str) -> date | None:
    """A YYYY-MM-DD date in the years the API accepts, or None when absent."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a date (YYYY-MM-DD).", errors={name: ["Not a date."]}) from None
    if not in_year_range(day):
        raise ValidationFailed(YEAR_RANGE_MESSAGE, errors={name: ["Out of range."]})
    return day


def form_data(post: QueryDict) -> QueryDict:
    """A form's fields without its blank ones: a blank field means "not given", as DRF reads HTML forms.

    The API reads an empty value as a value (``backend/strict_input.py``: its only form-style input is the
    query string); a form always sends its blank fields, and the serializers must see them as absent.
    """
    given = QueryDict(mutable=True)
    for name, values in post.lists():
        if kept := [value for value in values if value != ""]:
            given.setlist(name, kept)
    return given


def error_messages(detail: Any) -> list[str]:
    """Every message in a DRF error detail (a field's list, a nested dict...), flattened."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in error_messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in error_messages(value)]
    return [str(detail)]


def validated(serializer: serializers.Serializer) -> dict[str, Any]:
    """The serializer's validated data, or a 400 naming each field's problem as the API would."""
    if not serializer.is_valid():
        errors = {name: error_messages(detail) for name, detail in serializer.errors.items()}
        first = next(iter(errors.items()))
        raise ValidationFailed(f"{first[0].replace('_', ' ').capitalize()}: {first[1][0]}", errors=errors)
    return dict(serializer.validated_data)


def by_public_id(queryset: QuerySet[M], value: str | None) -> M | None:
    """The row of ``queryset`` (already scoped to the user) with this public id, or None."""
    try:
        public_id = UUID(str(value))
    except ValueError:
        return None
    return queryset.filter(public_id=public_id).first()


def found_or_404(queryset: QuerySet[M], value: str | None, what: str) -> M:
    """``by_public_id``, or a 404 ("No such <what>.") when the user may not see such a row."""
    row = by_public_id(queryset, value)
    if row is None:
        raise Http404(f"No such {what}.")
    return row


def once_per_form(request: HttpRequest, user: User, scope: str, perform: Callable[[], tuple[int, Any]]) -> Any:
    """Run ``perform`` once per the form's ``idempotency_key`` (a double click does it once), as the API's
    Idempotency-Key does; a refusal, first or replayed, is raised as an ApplicationError with its status."""
    payload = {key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}
    key = request.POST.get("idempotency_key") or None
    status, body = run_idempotent(user=user, scope=scope, key=key, payload=payload, perform=perform)
    if status >= 400:
        refusal = ApplicationError(str(body.get("detail") or "That was refused."))
        refusal.http_status = status
        raise refusal
    return body
