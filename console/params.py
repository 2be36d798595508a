"""Query and form values as the console reads them: junk is a clear 400 page, never a 500."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet

from backend.errors import ValidationFailed

M = TypeVar("M", bound=Model)
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)


def parse_day(value: str | None, *, default: date, name: str = "date") -> date:
    """A YYYY-MM-DD date between 1900 and 2200 (``default`` when absent)."""
    if not value:
        return default
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a date (YYYY-MM-DD).", errors={name: ["Not a date."]}) from None
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed("Choose a date between 1900 and 2200.", errors={name: ["Out of range."]})
    return day


def parse_instant(value: str | None, *, name: str) -> datetime:
    """An ISO 8601 instant with its offset (as the slot pickers send it)."""
    try:
        instant = datetime.fromisoformat((value or "").strip())
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None or not EARLIEST.year <= instant.year <= LATEST.year:
        raise ValidationFailed("Choose a time from the list.", errors={name: ["Not a time with its offset."]})
    return instant


def by_public_id(queryset: QuerySet[M], value: str | None) -> M | None:
    """The row of ``queryset`` (already scoped to the user) with this public id, or None."""
    try:
        public_id = UUID(str(value))
    except ValueError:
        return None
    return queryset.filter(public_id=public_id).first()
