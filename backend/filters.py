"""The list filter backend: django-filter, refusing filter values it would silently ignore.

django-filter skips an empty parameter (``?patient=``) and reads an unknown boolean
(``?is_deposit=maybe``) as "any", so a client that got a filter wrong would get the
unfiltered list, for example every patient's invoices. Here those are a 400 naming
the parameter: an empty value (leave the parameter out to not filter), a boolean
other than ``true``/``false``, and a single-valued filter given more than once.
Text filters (search, number, code) keep django-filter's reading: empty text
matches everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django_filters import BooleanFilter, CharFilter, Filter, IsoDateTimeFilter, MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from backend.fields import as_utc

EMPTY_FILTER = "May not be empty; leave the parameter out to not filter by it."
REPEATED_FILTER = "Give this parameter once."
NOT_A_BOOLEAN = "Use true or false."


def _problem(field: Filter | None, values: list[str]) -> str | None:
    if len(values) > 1 and not isinstance(field, MultipleChoiceFilter):
        return REPEATED_FILTER
    if "" in values and not isinstance(field, CharFilter):
        return EMPTY_FILTER
    if isinstance(field, BooleanFilter) and any(value not in ("true", "false") for value in values):
        return NOT_A_BOOLEAN
    return None


class AwareDateTimeFilter(IsoDateTimeFilter):
    """An ISO 8601 datetime filter compared in UTC (PostgreSQL refuses offsets beyond 15:59)."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is not None:
            value = as_utc(value, fail=_invalid_datetime(self.field_name))
        return super().filter(qs, value)


def _invalid_datetime(name: str) -> Callable[[], None]:
    def fail() -> None:
        raise ValidationError({name: ["Not a valid date and time."]})

    return fail


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            filters: dict[str, Filter | None] = dict(filterset_class.base_filters)
            filters |= dict.fromkeys(getattr(filterset_class, "query_aliases", ()))
            errors = {}
            for name, field in filters.items():
                values = request.query_params.getlist(name)
                message = _problem(field, values) if values else None
                if message:
                    errors[name] = [message]
            if errors:
                raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)
