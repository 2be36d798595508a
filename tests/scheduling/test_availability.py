"""Availability search: through the API, and as properties over random calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.errors import ApplicationError
from scheduling.booking.busy import busy_rows
from scheduling.models import MAX_HOLD, Appointment, AppointmentStaff, Closure
from scheduling.services.appointments import appointment_book
from scheduling.services.availability import AvailabilityQuery, availability_search
from tests.scheduling.conftest import ALTERNATE_FRIDAY_ANCHOR, NOW, Clinic, make_clinic, ny

MONDAY = dt.date(2026, 10, 5)


def search(clinic: Clinic, **params: str) -> list[dict[str, object]]:
    response = clinic.client(clinic.reception).get(
        "/api/v1/availability/",
        {
            "location": str(clinic.location.public_id),
            "service_type": str(clinic.infusion.public_id),
            "from": ny(MONDAY, 0).isoformat(),
            "to": ny(MONDAY + dt.timedelta(days=1), 0).isoformat(),
            **params,
        },
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_an_empty_day_offers_every_quarter_hour_whose_recovery_ends_by_closing(clinic: Clinic) -> None:
    slots = search(clinic)

    starts = [slot["start"] for slot in slots]
    assert starts[0] == "2026-10-05T08:00:00-04:00"
    # 40 minutes + 60 minutes of recovery must end by 16:30, so the last start is 14:45.
    assert starts[-1] == "2026-10-05T14:45:00-04:00"
    assert len(starts) == 28
    assert slots[0]["end"] == "2026-10-05T08:40:00-04:00"


def test_booked_chairs_and_nurses_disappear_from_the_offer(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    for patient, chair, nurse in (
        (clinic.patient, clinic.chairs[0], clinic.nurse),
        (clinic.patient2, clinic.chairs[1], clinic.nurse2),
    ):
        response = client.post("/api/v1/appointments/", {
            "patient": str(patient.public_id), "service_type": str(clinic.infusion.public_id),
            "location": str(clinic.location.public_id), "start": ny(MONDAY, 9).isoformat(),
            "resource": str(chair.public_id), "staff": [str(nurse.public_id)],
        }, format="json")  # fmt: skip
        assert response.status_code == 201

    starts = {slot["start"] for slot in search(clinic)}

    # Both chairs are held 09:00-10:40; a new visit needs its whole hold free, so 07:20-10:40 starts are gone.
    assert "2026-10-05T08:15:00-04:00" not in starts
    assert "2026-10-05T10:30:00-04:00" not in starts
    assert "2026-10-05T10:45:00-04:00" in starts


def test_a_closed_day_offers_nothing(clinic: Clinic) -> None:
    Closure.objects.create(location=clinic.location, date=MONDAY, reason="Holiday")

    assert search(clinic) == []


def test_the_patient_filter_leaves_out_the_patients_own_busy_times(clinic: Clinic) -> None:
    appointment_book(actor=None, patient=clinic.patient, service_type=clinic.consult, location=clinic.location,
                     start=ny(MONDAY, 12))  # fmt: skip

    starts = {slot["start"] for slot in search(clinic, patient=str(clinic.patient.public_id))}

    assert "2026-10-05T11:00:00-04:00" not in starts  # its recovery would overlap the consult
    assert "2026-10-05T12:30:00-04:00" in starts


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-10-06T00:00:00-04:00", "to": "2026-10-05T00:00:00-04:00"}, "to"),
        ({"from": "2026-10-05T00:00:00"}, "from"),
        ({"to": "2027-10-05T00:00:00-04:00"}, "to"),
        ({"location": "nope"}, "location"),
    ],
)
def test_bad_queries_are_400(clinic: Clinic, params: dict[str, str], field: str) -> None:
    base = {
        "location": str(clinic.location.public_id),
        "service_type": str(clinic.infusion.public_id),
        "from": ny(MONDAY, 0).isoformat(),
        "to": ny(MONDAY + dt.timedelta(days=1), 0).isoformat(),
    }
    response = clinic.client(clinic.reception).get("/api/v1/availability/", {**base, **params})

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_patients_and_anonymous_callers_cannot_search(clinic: Clinic) -> None:
    from rest_framework.test import APIClient

    from backend.roles import Role
    from tests.factories import UserFactory

    assert APIClient().get("/api/v1/availability/").status_code == 401
    assert clinic.client(UserFactory(roles=[Role.PATIENT])).get("/api/v1/availability/").status_code == 403


# --- properties -------------------------------------------------------------------------------

existing_bookings = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4),  # day offset from Monday
        st.integers(min_value=0, max_value=33),  # quarter hours after 08:00
        st.integers(min_value=0, max_value=1),  # which chair
        st.integers(min_value=0, max_value=1),  # which nurse
    ),
    max_size=12,
)


def _seed(clinic: Clinic, bookings: list[tuple[int, int, int, int]]) -> None:
    """Existing bookings written straight to the tables; overlapping ones are dropped by the constraints."""
    for day, quarter, chair, nurse in bookings:
        start = ny(MONDAY + dt.timedelta(days=day), 8) + dt.timedelta(minutes=15 * quarter)
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location,
                    resource=clinic.chairs[chair], start=start, end=start + dt.timedelta(minutes=40),
                    hold_until=start + dt.timedelta(minutes=100),
                )  # fmt: skip
                member = clinic.nurse if nurse == 0 else clinic.nurse2
                AppointmentStaff.objects.create(
                    appointment=appointment, staff=member, role="nurse", start=start, end=appointment.end
                )
        except Exception:  # noqa: S112 - an overlapping random booking is simply not there
            continue


def _clinic_opens_on(day: dt.date) -> bool:
    """Mon-Thu, and Fridays an even number of weeks from the anchor."""
    return day.weekday() < 4 or (day.weekday() == 4 and (day - ALTERNATE_FRIDAY_ANCHOR).days // 7 % 2 == 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bookings=existing_bookings, picks=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=4))
@pytest.mark.django_db
def test_every_offered_slot_is_open_in_local_time_and_booking_it_succeeds(
    bookings: list[tuple[int, int, int, int]], picks: list[int]
) -> None:
    with time_machine.travel(NOW, tick=False):
        clinic = make_clinic()
        _seed(clinic, bookings)
        zone = ZoneInfo("America/New_York")
        window_start = ny(MONDAY, 0)
        placements = availability_search(
            AvailabilityQuery(
                location=clinic.location,
                service_type=clinic.infusion,
                window_start=window_start,
                window_end=window_start + dt.timedelta(days=5),
                patient=clinic.patient,
            )
        )
        for placement in placements:
            local_start = placement.start.astimezone(zone)
            local_hold = placement.hold_until.astimezone(zone)
            assert _clinic_opens_on(local_start.date())
            assert dt.time(8) <= local_start.time()
            assert local_hold.time() <= dt.time(16, 30)
            assert local_start.date() == local_hold.date()
            assert local_start.minute % 15 == 0
        for pick in picks:
            if not placements:
                break
            placement = placements[pick % len(placements)]
            try:
                booked = appointment_book(
                    actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                    start=placement.start,
                )  # fmt: skip
            except ApplicationError as refused:  # pragma: no cover - this is the failure the property hunts
                pytest.fail(f"availability offered {placement.start} but booking refused it: {refused.detail}")
            booked.delete()


def test_a_hold_started_the_evening_before_still_blocks_the_morning_and_longer_holds_are_refused(
    clinic: Clinic,
) -> None:
    """Overlap questions read only the 12 hours before the window (``MAX_HOLD``): the database refuses a longer
    hold, and a hold that long, started the evening before, still shows as busy."""
    evening = ny(MONDAY, 8) - MAX_HOLD + dt.timedelta(minutes=30)  # held until 08:30 Monday
    overnight = Appointment.objects.create(
        patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location, resource=clinic.chairs[0],
        start=evening, end=evening + dt.timedelta(hours=1), hold_until=evening + MAX_HOLD,
    )  # fmt: skip

    rows = busy_rows(location_id=clinic.location.pk, staff_ids=[], patient_ids=[clinic.patient2.pk],
                     since=ny(MONDAY, 8), until=ny(MONDAY, 9))  # fmt: skip

    assert {(kind, appointment) for kind, _owner, appointment, _start, _end in rows} == {
        ("resource", overnight.pk), ("patient", overnight.pk),
    }  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=overnight.pk).update(hold_until=evening + MAX_HOLD + dt.timedelta(minutes=1))
