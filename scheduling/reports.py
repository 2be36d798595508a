"""The waitlist's refill figure: of the chair and room time freed ahead of time, how much the waitlist
booked again, and how fast.

Per month (the local month at the location when the visit was freed), location and resource kind: the visits
freed at least the location's notice ahead (``FreedSlot``: only those can be offered), their hours of chair or room
time (start to end of recovery), those filled from the waitlist, the share of the freed hours they
refilled, and the median minutes from the visit being freed to its being taken.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet

from scheduling.models import FreedSlot, FreedSlotStatus, Location


@dataclass
class _Month:
    freed: int = 0
    freed_hours: float = 0.0
    refilled: int = 0
    refilled_hours: float = 0.0
    minutes_to_fill: list[float] = field(default_factory=list)


def _hours(value: float) -> str:
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def waitlist_refill_report(*, locations: QuerySet[Location], start: date, end: date) -> list[dict[str, Any]]:
    """One row per month, location and kind with visits freed from ``start`` to ``end`` (local dates)."""
    months: dict[tuple[str, str, str], _Month] = defaultdict(_Month)
    for location in locations.order_by("name"):
        zone = location.zone
        since = datetime.combine(start, time.min, tzinfo=zone)
        until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
        slots = FreedSlot.objects.filter(location=location, freed_at__gte=since, freed_at__lt=until).values_list(
            "start", "hold_until", "status", "freed_at", "closed_at", "service_type__resource_kind"
        )
        for slot_start, hold_until, status, freed_at, closed_at, kind in slots.iterator():
            month = months[(f"{freed_at.astimezone(zone):%Y-%m}", location.name, kind)]
            hours = (hold_until - slot_start).total_seconds() / 3600
            month.freed += 1
            month.freed_hours += hours
            if status == FreedSlotStatus.FILLED and closed_at is not None:
                month.refilled += 1
                month.refilled_hours += hours
                month.minutes_to_fill.append((closed_at - freed_at).total_seconds() / 60)
    return [_row(key, month) for key, month in sorted(months.items())]


def _row(key: tuple[str, str, str], month: _Month) -> dict[str, Any]:
    share = f"{100 * month.refilled_hours / month.freed_hours:.0f}%" if month.freed_hours else ""
    median = round(statistics.median(month.minutes_to_fill)) if month.minutes_to_fill else None
    return {
        "month": key[0], "location": key[1], "kind": key[2], "freed": month.freed,
        "freed_hours": _hours(month.freed_hours), "refilled": month.refilled,
        "refilled_hours": _hours(month.refilled_hours), "refilled_share": share, "median_minutes_to_fill": median,
    }  # fmt: skip
