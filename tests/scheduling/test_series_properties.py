"""Hypothesis: whatever the protocol and the calendar, a booked series keeps every rule."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.errors import ApplicationError
from scheduling.booking.protocol import SeriesProtocol, violations
from scheduling.models import Appointment, Series
from tests.integration.test_booking_concurrency import overlapping_active_pairs, overlapping_staff_pairs
from tests.scheduling.conftest import ALTERNATE_FRIDAY_ANCHOR, NOW, book_series, make_clinic
from tests.scheduling.test_availability import _seed

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = dt.date(2026, 10, 5)

protocols = st.builds(
    SeriesProtocol,
    count=st.integers(min_value=1, max_value=6),
    first_date=st.dates(min_value=MONDAY, max_value=MONDAY + dt.timedelta(days=6)),
    local_time=st.sampled_from([dt.time(8), dt.time(9), dt.time(10, 30), dt.time(13, 15), dt.time(14, 45)]),
    weekdays=st.lists(st.integers(min_value=0, max_value=4), unique=True, max_size=3).map(tuple),
    min_gap_hours=st.sampled_from([0, 24, 48, 72]),
    max_per_week=st.sampled_from([None, 1, 2, 3]),
    within_days=st.sampled_from([None, 7, 14, 21, 28]),
)


def _open(day: dt.date) -> bool:
    return day.weekday() < 4 or (day.weekday() == 4 and (day - ALTERNATE_FRIDAY_ANCHOR).days // 7 % 2 == 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    protocol=protocols,
    bookings=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 33), st.integers(0, 1), st.integers(0, 1)), max_size=10
    ),
    accept=st.booleans(),
    pin_chair=st.booleans(),
)
@pytest.mark.django_db
def test_every_booked_series_keeps_its_protocol_hours_and_never_overlaps(
    protocol: SeriesProtocol, bookings: list[tuple[int, int, int, int]], accept: bool, pin_chair: bool
) -> None:
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic()
        _seed(clinic, bookings)
        before = Appointment.objects.count()
        try:
            series = book_series(
                actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                protocol=protocol, resource=clinic.chairs[0] if pin_chair else None, accept_alternatives=accept,
            )  # fmt: skip
        except ApplicationError:
            assert Appointment.objects.count() == before  # all or nothing
            assert not Series.objects.filter(patient=clinic.patient).exists()
            return

    visits = list(series.appointments.order_by("start"))
    starts = [visit.start for visit in visits]
    assert len(visits) == protocol.count
    assert violations(starts, protocol, NEW_YORK) == []
    for visit in visits:
        local_start, local_hold = visit.start.astimezone(NEW_YORK), visit.hold_until.astimezone(NEW_YORK)
        assert _open(local_start.date())
        assert dt.time(8) <= local_start.time()
        assert local_hold.time() <= dt.time(16, 30)
        assert local_hold.date() == local_start.date()
        if not accept:
            assert local_start.time() == protocol.local_time
            assert not protocol.weekdays or local_start.weekday() in protocol.weekdays
    assert overlapping_active_pairs("resource_id") == 0
    assert overlapping_active_pairs("patient_id") == 0
    assert overlapping_staff_pairs() == 0
