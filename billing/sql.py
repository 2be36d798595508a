"""SQL fragments shared by exports and reports: local calendar days at a location.

Tables are aliased ``loc`` for the location. A date range is inclusive and
means the location's local days; the plain UTC bounds, a day wider each side
(any zone is within 14 hours of UTC), let an index on the timestamp help.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


def local(timestamp: str) -> str:
    """The timestamp as wall-clock time at the location."""
    return f"({timestamp} AT TIME ZONE loc.timezone)"


def local_date(timestamp: str) -> str:
    return f"{local(timestamp)}::date"


def in_local_range(timestamp: str) -> str:
    """``timestamp`` falls on a local day between %(date_from)s and %(date_to)s (see ``range_params``)."""
    return (f"{timestamp} >= %(lower)s AND {timestamp} < %(upper)s"
            f" AND {local_date(timestamp)} BETWEEN %(date_from)s AND %(date_to)s")  # fmt: skip


def range_params(date_from: date, date_to: date, location_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "date_from": date_from,
        "date_to": date_to,
        "lower": datetime.combine(date_from - timedelta(days=1), time.min, tzinfo=UTC),
        "upper": datetime.combine(date_to + timedelta(days=2), time.min, tzinfo=UTC),
        "locations": list(location_ids),
    }
