"""Wall-clock rules to UTC: DST, gaps, alternate weeks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scheduling.errors import NonexistentLocalTime
from scheduling.models import OpeningRule
from scheduling.time import expand_rules, to_utc

NEW_YORK = ZoneInfo("America/New_York")
ANCHOR = dt.date(2026, 11, 6)  # a Friday


def test_nine_oclock_is_nine_local_on_both_sides_of_the_november_change() -> None:
    before = to_utc(dt.date(2026, 10, 30), dt.time(9), NEW_YORK)
    after = to_utc(dt.date(2026, 11, 2), dt.time(9), NEW_YORK)

    assert before == dt.datetime(2026, 10, 30, 13, 0, tzinfo=dt.UTC)  # EDT, UTC-4
    assert after == dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)  # EST, UTC-5
    assert before.astimezone(NEW_YORK).hour == after.astimezone(NEW_YORK).hour == 9


def test_nine_oclock_is_nine_local_on_both_sides_of_the_march_change() -> None:
    before = to_utc(dt.date(2027, 3, 12), dt.time(9), NEW_YORK)
    after = to_utc(dt.date(2027, 3, 15), dt.time(9), NEW_YORK)

    assert before == dt.datetime(2027, 3, 12, 14, 0, tzinfo=dt.UTC)
    assert after == dt.datetime(2027, 3, 15, 13, 0, tzinfo=dt.UTC)


def test_a_time_in_the_spring_forward_gap_is_refused_with_a_clear_message() -> None:
    with pytest.raises(NonexistentLocalTime) as refused:
        to_utc(dt.date(2027, 3, 14), dt.time(2, 30), NEW_YORK)

    assert "02:30 does not exist on 2027-03-14 in America/New_York" in refused.value.detail
    assert refused.value.code == "nonexistent_local_time"


def test_an_ambiguous_fall_back_time_means_its_first_occurrence() -> None:
    instant = to_utc(dt.date(2026, 11, 1), dt.time(1, 30), NEW_YORK)

    assert instant == dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)  # 01:30 EDT


@given(weeks=st.integers(min_value=-200, max_value=200))
def test_alternate_friday_rules_open_exactly_every_second_friday_from_the_anchor(weeks: int) -> None:
    rule = OpeningRule(weekday=4, opens=dt.time(8), closes=dt.time(16, 30), every_n_weeks=2, anchor_date=ANCHOR)
    friday = ANCHOR + dt.timedelta(weeks=weeks)

    assert rule.applies_on(friday) is (weeks % 2 == 0)
    for other_day in range(1, 7):
        assert not rule.applies_on(friday + dt.timedelta(days=other_day))


@dataclass
class Rule:
    weekday: int
    opens: dt.time
    closes: dt.time

    def applies_on(self, day: dt.date) -> bool:
        return day.weekday() == self.weekday


@given(
    zone=st.sampled_from(["America/New_York", "America/Los_Angeles", "Europe/London", "Australia/Sydney"]),
    start=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31)),
    opens=st.integers(min_value=6, max_value=12),
    length=st.integers(min_value=1, max_value=9),
)
def test_expanded_intervals_keep_their_wall_clock_times_whatever_the_date(
    zone: str, start: dt.date, opens: int, length: int
) -> None:
    tz = ZoneInfo(zone)
    rules = [Rule(weekday, dt.time(opens), dt.time(opens + length)) for weekday in range(7)]

    intervals = expand_rules(rules, tz, start, start + dt.timedelta(days=13))

    assert len(intervals) == 14
    for low, high in intervals:
        assert low.astimezone(tz).time() == dt.time(opens)
        assert high.astimezone(tz).time() == dt.time(opens + length)


def test_closures_remove_their_day() -> None:
    rules = [Rule(weekday, dt.time(8), dt.time(16)) for weekday in range(7)]
    christmas = dt.date(2026, 12, 25)

    intervals = expand_rules(rules, NEW_YORK, dt.date(2026, 12, 24), dt.date(2026, 12, 26), {christmas})

    assert [low.astimezone(NEW_YORK).date() for low, _ in intervals] == [dt.date(2026, 12, 24), dt.date(2026, 12, 26)]


def stepped_grid(  # noqa: PLR0917 - the reference mirrors grid_starts
    intervals: list[tuple[dt.datetime, dt.datetime]],
    since: dt.datetime,
    until: dt.datetime,
    step: int,
    duration: dt.timedelta,
    zone: ZoneInfo,
) -> tuple[list[dt.datetime], list[tuple[int, int]]]:
    """The obvious reference: step through each opening, convert every start."""
    starts = []
    for low, high in intervals:
        moment = low
        while moment + duration <= high:
            if since <= moment < until:
                starts.append(moment)
            moment += dt.timedelta(minutes=step)
    local = [(at.toordinal(), at.hour * 60 + at.minute) for at in (s.astimezone(zone) for s in starts)]
    return starts, local


@example(
    zone="Africa/Casablanca", first=dt.date(2027, 2, 1), days=50, hours=(0, 24), step=15, duration=60, trim=(0, 0)
)  # one opening holding both of Ramadan's changes: the same offset at its two ends
@given(
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "Africa/Casablanca", "UTC"]),
    first=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31)),
    days=st.integers(min_value=1, max_value=40),
    hours=st.sampled_from([(8, 16), (0, 24), (6, 23), (1, 4)]),
    step=st.sampled_from([5, 10, 15, 30, 60]),
    duration=st.integers(min_value=5, max_value=600),
    trim=st.tuples(st.integers(min_value=-600, max_value=3000), st.integers(min_value=-3000, max_value=600)),
)
def test_grid_starts_match_stepping_through_every_opening(  # noqa: PLR0917 - Hypothesis draws
    zone: str, first: dt.date, days: int, hours: tuple[int, int], step: int, duration: int, trim: tuple[int, int]
) -> None:
    """Openings of a day or merged across midnight (24 hours), across DST and Casablanca's Ramadan changes."""
    from scheduling.time import grid_starts, merge_intervals

    tz = ZoneInfo(zone)
    opens, closes = hours
    rules = [Rule(weekday, dt.time(opens), dt.time(closes % 24) if closes < 24 else dt.time(23, 59))
             for weekday in range(7)]  # fmt: skip
    intervals = merge_intervals(
        (low, high + dt.timedelta(minutes=1) if closes == 24 else high)  # 24h: each day meets the next
        for low, high in expand_rules(rules, tz, first, first + dt.timedelta(days=days))
    )
    since = intervals[0][0] + dt.timedelta(minutes=trim[0])
    until = intervals[-1][1] + dt.timedelta(minutes=trim[1])
    hold = dt.timedelta(minutes=duration)

    found = grid_starts(intervals, window_start=since, window_end=until, step_minutes=step, duration=hold, zone=tz)

    assert found == stepped_grid(intervals, since, until, step, hold, tz)
