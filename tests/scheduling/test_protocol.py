"""Series protocol rules without a database: planning, violations and the fast fit check agree."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.booking.protocol import ProtocolFit, SeriesProtocol, plan, validate_protocol, violations
from scheduling.errors import InvalidProtocol

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = dt.date(2026, 10, 26)
WEEKDAYS_OPEN = {0, 1, 2, 3, 4}


def test_the_induction_example_plans_mon_wed_fri_at_nine_local() -> None:
    protocol = SeriesProtocol(count=6, first_date=MONDAY, local_time=dt.time(9), weekdays=(0, 2, 4),
                              min_gap_hours=48, max_per_week=3, within_days=21)  # fmt: skip

    starts = plan(protocol, NEW_YORK, WEEKDAYS_OPEN)

    assert [s.astimezone(NEW_YORK).strftime("%a %d %H:%M") for s in starts] == [
        "Mon 26 09:00", "Wed 28 09:00", "Fri 30 09:00", "Mon 02 09:00", "Wed 04 09:00", "Fri 06 09:00",
    ]  # fmt: skip


def test_a_gap_longer_than_the_pattern_skips_days() -> None:
    protocol = SeriesProtocol(count=3, first_date=MONDAY, local_time=dt.time(9), weekdays=(0, 1, 2, 3, 4),
                              min_gap_hours=72)  # fmt: skip

    days = [s.astimezone(NEW_YORK).strftime("%a") for s in plan(protocol, NEW_YORK, WEEKDAYS_OPEN)]

    assert days == ["Mon", "Thu", "Mon"]


def test_an_impossible_protocol_is_refused_before_any_calendar_is_read() -> None:
    protocol = SeriesProtocol(count=6, first_date=MONDAY, local_time=dt.time(9), min_gap_hours=48, within_days=7)

    with pytest.raises(InvalidProtocol) as refused:
        plan(protocol, NEW_YORK, WEEKDAYS_OPEN)

    assert "6 visits cannot fit between 2026-10-26 and 2026-11-01" in refused.value.detail


def test_days_the_clinic_never_opens_are_refused() -> None:
    protocol = SeriesProtocol(count=2, first_date=MONDAY, local_time=dt.time(9), weekdays=(5, 6))

    with pytest.raises(InvalidProtocol, match="closed on every day asked for"):
        validate_protocol(protocol, WEEKDAYS_OPEN)


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=30 * 24 * 4), max_size=8, unique=True),
    candidate=st.integers(min_value=-2 * 24 * 4, max_value=32 * 24 * 4),
    gap=st.sampled_from([0, 24, 48, 72]),
    per_week=st.sampled_from([None, 1, 2, 3]),
    within=st.sampled_from([None, 7, 21, 28]),
)
def test_the_fast_fit_check_agrees_with_the_full_rules(
    offsets: list[int], candidate: int, gap: int, per_week: int | None, within: int | None
) -> None:
    origin = dt.datetime.combine(MONDAY, dt.time(0), tzinfo=NEW_YORK)
    protocol = SeriesProtocol(count=1, first_date=MONDAY, local_time=dt.time(9), min_gap_hours=gap,
                              max_per_week=per_week, within_days=within)  # fmt: skip
    taken: list[dt.datetime] = []
    for offset in offsets:  # keep only a set of visits that itself keeps the protocol
        start = origin + dt.timedelta(minutes=15 * offset)
        if not violations([*taken, start], protocol, NEW_YORK, in_window=[]):
            taken.append(start)
    new = origin + dt.timedelta(minutes=15 * candidate)

    expected = not violations([*taken, new], protocol, NEW_YORK, in_window=[new])

    assert ProtocolFit(protocol, NEW_YORK, taken).allows(new) is expected
