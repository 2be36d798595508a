"""The one place wall-clock rules become UTC instants.

Opening hours, shifts and series patterns are wall-clock times in a location's
IANA zone. They are expanded date by date with ``zoneinfo``, so 09:00 stays
09:00 across DST changes. A wall-clock time that does not exist (the
spring-forward gap) is refused; an ambiguous one (the fall-back hour) means its
first occurrence.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduling.errors import NonexistentLocalTime

Interval = tuple[datetime, datetime]
MAX_INSTANT = datetime.max.replace(tzinfo=UTC)


class WeeklyRuleLike(Protocol):
    weekday: int
    opens: time
    closes: time

    def applies_on(self, day: date) -> bool: ...


def local_datetime_exists(day: date, wall: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return round_trip == naive


def to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``day`` at wall-clock ``wall`` in ``zone``.

    Raises :class:`NonexistentLocalTime` inside a spring-forward gap.
    """
    if not local_datetime_exists(day, wall, zone):
        raise NonexistentLocalTime(
            f"{wall:%H:%M} does not exist on {day:%Y-%m-%d} in {zone.key}: the clocks skip that hour "
            "for daylight saving time. Choose a time outside the gap.",
            extra={"date": day.isoformat(), "time": wall.strftime("%H:%M"), "timezone": zone.key},
        )
    return datetime.combine(day, wall, tzinfo=zone).replace(fold=0).astimezone(UTC)


def to_utc_lenient(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Like :func:`to_utc` but a time in the gap moves forward by the gap (rule expansion only)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def dates_between(first: date, last: date) -> Iterator[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def expand_rules(
    rules: Iterable[WeeklyRuleLike], zone: ZoneInfo, first: date, last: date, closed: set[date] | None = None
) -> list[Interval]:
    """UTC intervals of ``rules`` on each local date from ``first`` to ``last``, skipping ``closed`` dates.

    Overlapping or touching intervals on the same date are merged.
    """
    closed = closed or set()
    rules = list(rules)
    intervals: list[Interval] = []
    for day in dates_between(first, last):
        if day in closed:
            continue
        todays = sorted(
            (to_utc_lenient(day, rule.opens, zone), to_utc_lenient(day, rule.closes, zone))
            for rule in rules
            if rule.applies_on(day)
        )
        intervals.extend(merge_intervals(todays))
    return intervals


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covers(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    """Whether one of the merged, sorted, non-overlapping ``intervals`` contains ``[start, end)``."""
    index = bisect.bisect_right(intervals, (start, MAX_INSTANT)) - 1
    return index >= 0 and intervals[index][0] <= start and end <= intervals[index][1]


# No zone changes its UTC offset twice within this long, so equal offsets at both ends of a shorter
# stretch mean one offset throughout.
SINGLE_OFFSET_SPAN = timedelta(hours=12)


def grid_starts(
    open_intervals: list[Interval],
    *,
    window_start: datetime,
    window_end: datetime,
    step_minutes: int,
    duration: timedelta,
    zone: ZoneInfo,
) -> tuple[list[datetime], list[tuple[int, int]]]:
    """Starts every ``step_minutes`` from each opening's start while ``duration`` fits, inside
    ``[window_start, window_end)``; and for each, its local date's ordinal and minute of the day.

    Counted rather than stepped; local times by minute arithmetic from a stretch's first start
    when the UTC offset is the same throughout, converted one by one otherwise.
    """
    step = timedelta(minutes=step_minutes)
    starts: list[datetime] = []
    local: list[tuple[int, int]] = []
    for open_start, open_end in open_intervals:
        fitting = (open_end - duration - open_start) // step + 1 if open_end - duration >= open_start else 0
        first = max(0, -((open_start - window_start) // step))  # ceil((window_start - open_start) / step)
        stop = min(fitting, -((open_start - window_end) // step))  # and start < window_end
        if first >= stop:
            continue
        block = [open_start + step * index for index in range(first, stop)]
        starts.extend(block)
        at, until = block[0].astimezone(zone), block[-1].astimezone(zone)
        if block[-1] - block[0] < SINGLE_OFFSET_SPAN and at.utcoffset() == until.utcoffset():
            base = at.toordinal() * 1440 + at.hour * 60 + at.minute
            local.extend(divmod(base + step_minutes * index, 1440) for index in range(stop - first))
        else:
            local.extend((t.toordinal(), t.hour * 60 + t.minute) for t in (s.astimezone(zone) for s in block))
    return starts, local
