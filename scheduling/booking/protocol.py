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
from typing import TypeVar
from zoneinfo import ZoneInfo

from backend.errors import ValidationFailed
from scheduling.errors import InvalidProtocol
from scheduling.models import Series, SeriesTemplate
from scheduling.time import local_datetime_exists, to_utc_lenient

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_COUNT = 52
T = TypeVar("T")
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


@dataclass(frozen=True)
class ProtocolRules:
    """Rules given for one booking; each one given wins over the template's (None: not given)."""

    count: int | None = None
    local_time: time | None = None
    weekdays: tuple[int, ...] | None = None
    min_gap_hours: int | None = None
    max_per_week: int | None = None
    within_days: int | None = None


def protocol_from(*, first_date: date, template: SeriesTemplate | None, rules: ProtocolRules) -> SeriesProtocol:
    """The protocol of a new series: the template's rules, with any rule given explicitly winning.

    Without a template, the count and the local time must be given (400 naming them).
    """
    if template is None:
        absent = {field: ["This field is required."] for field, value in (("count", rules.count),
                  ("time", rules.local_time)) if value is None}  # fmt: skip
        if absent:
            raise ValidationFailed("Give the series' count and time, or a template.", errors=absent)
        template = SeriesTemplate(count=0, weekdays=[], min_gap_hours=0)  # no defaults beyond these

    def pick(given: T | None, default: T) -> T:
        return given if given is not None else default

    local_time = pick(rules.local_time, template.local_time)
    if local_time is None:
        raise ValidationFailed("Give the local time of the visits.", errors={"time": ["Required."]})
    return SeriesProtocol(
        count=pick(rules.count, template.count),
        first_date=first_date,
        local_time=local_time,
        weekdays=tuple(pick(rules.weekdays, tuple(template.weekdays))),
        min_gap_hours=pick(rules.min_gap_hours, template.min_gap_hours),
        max_per_week=pick(rules.max_per_week, template.max_per_week),
        within_days=pick(rules.within_days, template.within_days),
    )


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


def in_dst_gap(start: datetime, protocol: SeriesProtocol, zone: ZoneInfo) -> bool:
    """Was this planned visit's local time skipped by a spring-forward change (see ``plan``)?"""
    return not local_datetime_exists(start.astimezone(zone).date(), protocol.local_time, zone)


def plan(
    protocol: SeriesProtocol, zone: ZoneInfo, open_weekdays: Iterable[int], fixed: Sequence[datetime] = ()
) -> list[datetime]:
    """The visits the protocol asks for, before looking at the calendar.

    Walks the days from ``first_date`` and takes each preferred weekday (every
    open weekday when none are given) whose visit keeps the gap and per-week
    rules with the visits taken so far and the ``fixed`` ones (an existing
    series being extended). Refuses a protocol that cannot fit its count.

    A day whose local time falls in a spring-forward gap is planned all the
    same, at the instant the gap ends (``in_dst_gap`` tells): booking reports
    it as a conflict with an alternative, like any other visit that cannot be
    placed, rather than silently moving the series to another day.
    """
    weekdays = set(protocol.weekdays) or set(open_weekdays)
    taken: list[datetime] = []
    day = protocol.first_date
    while len(taken) < protocol.count and day <= protocol.last_allowed_date:
        if day.weekday() in weekdays:
            start = to_utc_lenient(day, protocol.local_time, zone)
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
