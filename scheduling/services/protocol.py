"""Series protocols: the rules a series' visits follow, and the plan they give.

A protocol is count, first date, local time, preferred weekdays, a minimum gap
between visits, a maximum per week and a window ("6 infusions within 21 days,
at least 48 hours apart, at most 3 a week, Mon/Wed/Fri at 09:00").
Dates are the location's local dates; weeks run Monday to Sunday.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from scheduling.errors import InvalidProtocol
from scheduling.models import Series
from scheduling.time import local_datetime_exists, to_utc

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_COUNT = 52
HORIZON_DAYS = 366


@dataclass(frozen=True)
class SeriesProtocol:
    count: int
    first_date: date
    local_time: time
    weekdays: tuple[int, ...] = ()
    min_gap_hours: int = 0
    max_per_week: int | None = None
    within_days: int | None = None

    @property
    def last_allowed_date(self) -> date:
        """The last local date a visit may fall on."""
        days = self.within_days if self.within_days is not None else HORIZON_DAYS
        return self.first_date + timedelta(days=days - 1)

    def extended(self, *, count: int, first_date: date, local_time: time | None = None) -> SeriesProtocol:
        return replace(self, count=count, first_date=first_date, local_time=local_time or self.local_time)


def protocol_of(series: Series) -> SeriesProtocol:
    return SeriesProtocol(
        count=series.count,
        first_date=series.first_date,
        local_time=series.local_time,
        weekdays=tuple(series.weekdays),
        min_gap_hours=series.min_gap_hours,
        max_per_week=series.max_per_week,
        within_days=series.within_days,
    )


def validate_protocol(protocol: SeriesProtocol, open_weekdays: Iterable[int]) -> None:
    """Refuse protocols that cannot work whatever the calendar, with a message a receptionist understands."""
    errors: dict[str, list[str]] = {}
    if protocol.count < 1:
        errors["count"] = ["A series needs at least one visit."]
    elif protocol.count > MAX_COUNT:
        errors["count"] = [f"At most {MAX_COUNT} visits per series."]
    if any(day not in range(7) for day in protocol.weekdays):
        errors["weekdays"] = ["Weekdays are 0 (Monday) to 6 (Sunday)."]
    if protocol.max_per_week is not None and protocol.max_per_week < 1:
        errors["max_per_week"] = ["Allow at least one visit a week."]
    if protocol.within_days is not None and protocol.within_days < 1:
        errors["within_days"] = ["The window must be at least one day."]
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidProtocol(first, errors=errors)
    open_days = set(open_weekdays)
    wanted = set(protocol.weekdays) or open_days
    if not wanted & open_days:
        names = ", ".join(WEEKDAY_NAMES[day] for day in sorted(protocol.weekdays))
        raise InvalidProtocol(
            f"The clinic is closed on every day asked for ({names}); choose days it opens.",
            errors={"weekdays": ["All of these days are closed."]},
        )


def violations(
    starts: Sequence[datetime],
    protocol: SeriesProtocol,
    zone: ZoneInfo,
    *,
    in_window: Sequence[datetime] | None = None,
) -> list[str]:
    """Why visit ``starts`` break the protocol's gap and per-week rules, and why ``in_window``
    (default: all of them) breaks its window. Empty when nothing does."""
    ordered = sorted(starts)
    problems = []
    gap = timedelta(hours=protocol.min_gap_hours)
    for earlier, later in pairwise(ordered):
        if later - earlier < gap:
            problems.append(
                f"{_local(earlier, zone)} and {_local(later, zone)} are less than {protocol.min_gap_hours} hours apart"
            )
    if protocol.max_per_week is not None:
        weeks = Counter(start.astimezone(zone).date().isocalendar()[:2] for start in ordered)
        for (year, week), count in sorted(weeks.items()):
            if count > protocol.max_per_week:
                problems.append(f"{count} visits in week {week} of {year}, more than {protocol.max_per_week}")
    for start in sorted(ordered if in_window is None else in_window):
        day = start.astimezone(zone).date()
        if day < protocol.first_date or day > protocol.last_allowed_date:
            problems.append(
                f"{_local(start, zone)} is outside the window {protocol.first_date} to {protocol.last_allowed_date}"
            )
    return problems


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%a %Y-%m-%d %H:%M}"


def plan(
    protocol: SeriesProtocol, zone: ZoneInfo, open_weekdays: Iterable[int], fixed: Sequence[datetime] = ()
) -> list[datetime]:
    """The visits the protocol asks for, before looking at the calendar.

    Walks the days from ``first_date`` and takes each preferred weekday (every
    open weekday when none are given) whose visit keeps the gap and per-week
    rules with the visits taken so far and the ``fixed`` ones (an existing
    series being extended). Refuses a protocol that cannot fit its count.
    """
    weekdays = set(protocol.weekdays) or set(open_weekdays)
    taken: list[datetime] = []
    day = protocol.first_date
    while len(taken) < protocol.count and day <= protocol.last_allowed_date:
        if day.weekday() in weekdays and local_datetime_exists(day, protocol.local_time, zone):
            start = to_utc(day, protocol.local_time, zone)
            if not violations([*fixed, *taken, start], protocol, zone, in_window=[start]):
                taken.append(start)
        day += timedelta(days=1)
    if len(taken) < protocol.count:
        raise InvalidProtocol(
            f"{protocol.count} visits cannot fit between {protocol.first_date} and {protocol.last_allowed_date} "
            f"on the days asked for with at least {protocol.min_gap_hours} hours between visits"
            + (f" and at most {protocol.max_per_week} a week" if protocol.max_per_week else "")
            + f"; only {len(taken)} do. Widen the window, add days or lower the count.",
            errors={"count": ["Does not fit the protocol."]},
        )
    return taken


class ProtocolFit:
    """Fast yes/no: does one more visit keep the protocol with ``taken``? (For searching many candidates.)

    Equivalent to ``not violations([*taken, candidate], protocol, zone, in_window=[candidate])`` when
    ``taken`` itself keeps the protocol.
    """

    def __init__(self, protocol: SeriesProtocol, zone: ZoneInfo, taken: Sequence[datetime]) -> None:
        self.protocol = protocol
        self.zone = zone
        self.taken = sorted(taken)
        self.gap = timedelta(hours=protocol.min_gap_hours)
        self.weeks = Counter(start.astimezone(zone).date().isocalendar()[:2] for start in self.taken)

    def allows(self, candidate: datetime) -> bool:
        day = candidate.astimezone(self.zone).date()
        if day < self.protocol.first_date or day > self.protocol.last_allowed_date:
            return False
        if self.protocol.max_per_week is not None and self.weeks[day.isocalendar()[:2]] >= self.protocol.max_per_week:
            return False
        index = bisect.bisect_left(self.taken, candidate)
        if index < len(self.taken) and self.taken[index] - candidate < self.gap:
            return False
        return not (index > 0 and candidate - self.taken[index - 1] < self.gap)
