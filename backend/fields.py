"""Serializer fields shared by the apps: opaque ids, zoned datetimes, money."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.money import money_text
from backend.schema import LOCAL_DATETIME_PATTERN


@extend_schema_field(OpenApiTypes.UUID)
class PublicIdField(serializers.RelatedField):
    """A related object by its opaque ``public_id`` (UUID); unknown or malformed ids are a field error.

    ``scope`` is a selector taking the acting user: only what it returns can be referred to, so an id
    from another clinic group is "not found", exactly like an id that does not exist.
    """

    default_error_messages = {
        "does_not_exist": "No {name} with id {value}.",
        "invalid": "Not a valid id: {value}.",
    }

    def __init__(self, name: str = "object", *, scope: Callable[[Any], QuerySet[Any]], **kwargs: Any) -> None:
        self.name = name
        self.scope = scope
        kwargs.setdefault("queryset", None if kwargs.get("read_only") else _Placeholder())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        return self.scope(request.user if request is not None else AnonymousUser())

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # DRF turns "" into null for relations; an empty id is a malformed id, not "none".
        if data == "":
            self.fail("invalid", value="")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Model:
        try:
            key = uuid.UUID(str(data))
        except ValueError:
            self.fail("invalid", value=str(data)[:64])
        queryset: Any = self.get_queryset()
        try:
            return queryset.get(public_id=key)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", name=self.name, value=key)
        raise AssertionError("unreachable")  # pragma: no cover

    def to_representation(self, value: Any) -> str:
        return str(value.public_id)


class _Placeholder:
    """Satisfies RelatedField's "a queryset is required" check; ``get_queryset`` supplies the real one."""

    def all(self) -> _Placeholder:
        return self


def zoned(value: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with the offset of ``zone`` (a location's local time)."""
    return value.astimezone(zone).isoformat() if value is not None else None


# Dates and times accepted as input: wide enough for any birth date or booking, narrow enough that adding a
# visit's length, a time zone's offset or a report's period never leaves the years Python can represent.
# Every DRF and Django date and time field checks it (backend/strict_input.py); AwareDateTimeField below too.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
YEAR_RANGE_MESSAGE = f"Give a year from {EARLIEST_YEAR} to {LATEST_YEAR}."


def in_year_range(value: date | datetime) -> bool:
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def as_utc(value: datetime, *, fail: Callable[[], Any]) -> datetime:
    """The same instant in UTC. ISO 8601 allows offsets up to 23:59 but PostgreSQL only 15:59:
    normalising first means any valid offset works, and the database never sees one."""
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 at +01:00 is before the first representable instant
        fail()
        raise


@extend_schema_field({"type": "string", "pattern": LOCAL_DATETIME_PATTERN, "example": "2026-11-02T09:00"})
class LocalDateTimeField(serializers.DateTimeField):
    """A wall-clock date and time at a location, without an offset (the location's zone applies)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(default_timezone=None, **kwargs)


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 datetime that must carry its UTC offset: naive input is refused, never guessed."""

    default_error_messages = {
        "invalid": "Not a valid date and time; use ISO 8601 such as 2026-11-02T09:00:00-05:00.",
        "naive": "Give the time with its UTC offset, e.g. 2026-11-02T09:00:00-05:00.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if isinstance(data, datetime):
            parsed: datetime | None = data
        elif isinstance(data, str):
            try:
                parsed = parse_datetime(data.strip())
            except ValueError:
                parsed = None
        else:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        assert parsed is not None  # noqa: S101 - fail() raised otherwise
        if timezone.is_naive(parsed):
            self.fail("naive")
        if not in_year_range(parsed):
            raise serializers.ValidationError(YEAR_RANGE_MESSAGE)
        return as_utc(parsed, fail=lambda: self.fail("invalid"))

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


def related(instance: Any, path: str) -> Any:
    """The object at the dotted ``path`` from ``instance`` ("location", "invoice.location")."""
    for part in path.split("."):
        instance = getattr(instance, part)
    return instance


@extend_schema_field(OpenApiTypes.DATETIME)
class ZonedDateTimeField(serializers.Field):
    """A read-only datetime shown in the zone of a related object (by default the row's location)."""

    def __init__(self, *, zone_from: str = "location", **kwargs: Any) -> None:
        kwargs["read_only"] = True
        self.zone_from = zone_from
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return (super().get_attribute(instance), related(instance, self.zone_from).zone)

    def to_representation(self, value: Any) -> str | None:
        instant, zone = value
        return zoned(instant, zone)


# The one spelling of an amount: ASCII digits, at most 7 before the point and 4 after, an optional minus. No
# exponent ("1e3"), no separators ("1_000.00"), no other scripts' digits, no padding. The currency's own
# number of decimals is checked by the service that knows the currency.
MONEY_PATTERN = r"^-?[0-9]{1,7}(\.[0-9]{1,4})?$"
QUANTITY_PATTERN = r"^-?[0-9]{1,6}(\.[0-9]{1,3})?$"


class DecimalTextField(serializers.Field):
    """A decimal as a string of ASCII digits matching ``pattern``; JSON numbers with a fraction are refused
    (floats are not exact), and JSON integers unless ``integers``."""

    pattern = re.compile(MONEY_PATTERN)
    integers = False

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, int) and not self.integers:
            self.fail("invalid")
        if isinstance(data, int):
            data = str(data)
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("invalid")
        return Decimal(data)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN, "example": "450.00"})
class MoneyField(DecimalTextField):
    """A money amount as a string ("450.00"), as the schema says, written with exactly its currency's minor
    units. A JSON integer is refused too: an integer where a string belongs is a client's bug it should hear
    about. ``currency_from`` is the dotted path from the instance to its currency code."""

    default_error_messages = {
        "invalid": 'Send money as a string of digits such as "450.00" (up to 9999999.9999).',
        "float": 'Send money as a string such as "450.00", not as a JSON number with a fraction.',
    }

    def __init__(self, *, currency_from: str = "currency", **kwargs: Any) -> None:
        self.currency_from = currency_from
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return (super().get_attribute(instance), related(instance, self.currency_from))

    def to_representation(self, value: tuple[Decimal, str]) -> str:
        amount, currency = value
        return money_text(amount, currency)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": QUANTITY_PATTERN, "example": "1"})
class QuantityField(DecimalTextField):
    """A quantity (units) as a string or integer, up to 3 decimals."""

    integers = True  # its schema says string, but a whole number of units is unambiguous
    default_error_messages = {
        "invalid": 'Send a quantity as a string such as "1" or "0.5" (up to 999999.999).',
        "float": 'Send a quantity as a string such as "0.5", not as a JSON number with a fraction.',
    }
    pattern = re.compile(QUANTITY_PATTERN)

    def to_representation(self, value: Decimal) -> str:
        return format(value, "f")
