"""Booking single appointments through the API: success, conflicts, rules, DST, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment, AppointmentStatus, ClearanceStatus, Closure, ReminderStatus, Shift
from tests.factories import ClearanceFactory, PatientFactory
from tests.scheduling.conftest import Clinic, ny

MONDAY = dt.date(2026, 10, 5)


def book(client: APIClient, clinic: Clinic, start: dt.datetime | str, /, **extra: Any) -> Any:
    payload = {
        "patient": str(clinic.patient.public_id),
        "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id),
        "start": start.isoformat() if isinstance(start, dt.datetime) else start,
        **extra,
    }
    return client.post("/api/v1/appointments/", payload, format="json")


def test_reception_books_an_infusion_with_a_free_chair_and_nurse(clinic: Clinic) -> None:
    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["start"] == "2026-10-05T09:00:00-04:00"
    assert body["end"] == "2026-10-05T09:40:00-04:00"
    assert body["recovery_until"] == "2026-10-05T10:40:00-04:00"
    assert body["status"] == "scheduled"
    assert body["resource"] in {str(chair.public_id) for chair in clinic.chairs}
    assert [member["role"] for member in body["staff"]] == ["nurse"]


def test_a_kap_session_gets_a_physician_and_a_therapist_at_once(clinic: Clinic) -> None:
    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 10), service_type=str(clinic.kap.public_id))

    assert response.status_code == 201, response.json()
    staff = {member["id"]: member["role"] for member in response.json()["staff"]}
    assert staff == {str(clinic.physician.public_id): "physician", str(clinic.therapist.public_id): "therapist"}
    assert response.json()["resource"] == str(clinic.room.public_id)


def test_back_to_back_bookings_of_one_chair_both_succeed(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    chair = str(clinic.chairs[0].public_id)

    first = book(client, clinic, ny(MONDAY, 9), resource=chair)
    second = book(client, clinic, ny(MONDAY, 10, 40), resource=chair, patient=str(clinic.patient2.public_id))

    assert first.status_code == 201
    assert second.status_code == 201, second.json()


def test_an_overlapping_booking_of_the_same_chair_is_a_409_naming_the_collision(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    chair = str(clinic.chairs[0].public_id)
    first = book(client, clinic, ny(MONDAY, 9), resource=chair).json()

    response = book(client, clinic, ny(MONDAY, 10), resource=chair, patient=str(clinic.patient2.public_id))

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "booking_conflict"
    assert "Chair 1 is taken" in body["detail"]
    assert body["conflicts"] == [
        {
            "kind": "resource",
            "with": "Chair 1",
            "appointment": first["id"],
            "start": "2026-10-05T09:00:00-04:00",  # in the location's offset, as every time the API gives
            "end": "2026-10-05T10:40:00-04:00",
        }
    ]


def test_the_patient_cannot_be_in_two_places_at_once(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    book(client, clinic, ny(MONDAY, 9))

    response = book(client, clinic, ny(MONDAY, 10), service_type=str(clinic.consult.public_id))

    assert response.status_code == 409
    assert response.json()["conflicts"][0]["kind"] == "patient"


def test_a_busy_nurse_is_named_when_asked_for_by_name(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    book(client, clinic, ny(MONDAY, 9), staff=[str(clinic.nurse.public_id)])

    response = book(
        client, clinic, ny(MONDAY, 9, 15), staff=[str(clinic.nurse.public_id)], patient=str(clinic.patient2.public_id)
    )

    assert response.status_code == 409
    assert response.json()["conflicts"][0]["kind"] == "staff"
    assert "Nurse Joy is busy" in response.json()["detail"]


def test_when_every_chair_is_taken_the_answer_is_409(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    others = [PatientFactory(group=clinic.group) for _ in range(2)]
    for other in others:
        ClearanceFactory(patient=other)
        assert book(client, clinic, ny(MONDAY, 9), patient=str(other.public_id)).status_code == 201

    response = book(client, clinic, ny(MONDAY, 9, 30))

    assert response.status_code == 409
    assert response.json()["code"] == "booking_conflict"
    assert "Every chair" in response.json()["detail"]


def test_a_cancelled_slot_can_be_booked_again(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    chair = str(clinic.chairs[0].public_id)
    first = book(client, clinic, ny(MONDAY, 9), resource=chair).json()
    assert client.post(f"/api/v1/appointments/{first['id']}/cancel/", {"reason": "Flu"}).status_code == 200

    again = book(client, clinic, ny(MONDAY, 9), resource=chair, patient=str(clinic.patient2.public_id))

    assert again.status_code == 201, again.json()


def test_an_uncleared_patient_cannot_be_booked_for_an_infusion(clinic: Clinic) -> None:
    stranger = PatientFactory(group=clinic.group)

    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9), patient=str(stranger.public_id))

    assert response.status_code == 422
    assert response.json()["code"] == "not_cleared"
    assert "no clearance on record" in response.json()["detail"]


def test_an_expired_clearance_does_not_cover_a_later_visit(clinic: Clinic) -> None:
    ClearanceFactory(patient=clinic.patient, valid_until=dt.date(2026, 10, 4))

    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9))

    assert response.status_code == 422
    assert "expires on 2026-10-04" in response.json()["detail"]


def test_the_latest_clearance_is_the_newest_record_the_latest_row_breaking_ties(clinic: Clinic) -> None:
    """What clinicians see as "current" (the ORM's ordering) is what booking checks."""
    from scheduling.services.clearance import latest_clearance

    stranger = PatientFactory(group=clinic.group)
    assert latest_clearance(stranger.pk) is None
    ClearanceFactory(patient=stranger, valid_until=dt.date(2031, 1, 1))
    refused = ClearanceFactory(patient=stranger, status=ClearanceStatus.NOT_CLEARED)  # same instant: later row wins

    latest = latest_clearance(stranger.pk)

    assert latest == stranger.clearances.order_by("-recorded_at", "-id").first() == refused
    assert latest is not None
    assert (latest.status, latest.valid_until, latest.recorded_by_id) == (
        "not_cleared",
        refused.valid_until,
        refused.recorded_by_id,
    )
    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9), patient=str(stranger.public_id))
    assert response.json()["code"] == "not_cleared"


def test_a_consultation_needs_no_clearance(clinic: Clinic) -> None:
    stranger = PatientFactory(group=clinic.group)

    response = book(
        clinic.client(clinic.reception), clinic, ny(MONDAY, 9),
        patient=str(stranger.public_id), service_type=str(clinic.consult.public_id),
    )  # fmt: skip

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (ny(MONDAY, 7, 30), "before opening"),
        (ny(MONDAY, 15, 30), "recovery runs past closing"),
        (ny(dt.date(2026, 10, 10), 9), "Saturday"),
        (ny(dt.date(2026, 10, 30), 9), "the Friday the clinic is closed"),
    ],
)
def test_outside_opening_hours_is_a_422(clinic: Clinic, start: dt.datetime, why: str) -> None:
    response = book(clinic.client(clinic.reception), clinic, start)

    assert response.status_code == 422, why
    assert response.json()["code"] == "outside_opening_hours"


def test_the_open_alternate_friday_is_bookable(clinic: Clinic) -> None:
    response = book(clinic.client(clinic.reception), clinic, ny(dt.date(2026, 10, 23), 9))

    assert response.status_code == 201, response.json()


def test_a_closure_day_is_not_bookable(clinic: Clinic) -> None:
    Closure.objects.create(location=clinic.location, date=MONDAY, reason="Staff training")

    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9))

    assert response.json()["code"] == "outside_opening_hours"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"patient": "00000000-0000-0000-0000-000000000000"}, 400, "patient"),
        ({"patient": "not-a-uuid"}, 400, "patient"),
        ({"start": "2026-10-05T09:00:00"}, 400, "start"),
        ({"start": "next monday"}, 400, "start"),
        ({"service_type": None}, 400, "service_type"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(clinic: Clinic, payload: dict[str, Any], status: int, field: str) -> None:
    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9), **payload)

    assert response.status_code == status
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_another_locations_resource_is_refused(clinic: Clinic) -> None:
    from tests.factories import LocationFactory, ResourceFactory

    elsewhere = ResourceFactory(location=LocationFactory(group=clinic.group))

    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9), resource=str(elsewhere.public_id))

    assert response.status_code == 422
    assert response.json()["errors"] == {"resource": ["Not at this location."]}


def test_a_room_cannot_stand_in_for_a_chair(clinic: Clinic) -> None:
    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9), resource=str(clinic.room.public_id))

    assert response.status_code == 422
    assert "needs a chair" in response.json()["detail"]


def test_a_time_in_the_past_is_refused(clinic: Clinic) -> None:
    response = book(clinic.client(clinic.reception), clinic, ny(dt.date(2026, 9, 28), 9))

    assert response.status_code == 422
    assert response.json()["errors"] == {"start": ["Must be in the future."]}


def test_local_start_books_wall_clock_time_at_the_location(clinic: Clinic) -> None:
    payload = {
        "patient": str(clinic.patient.public_id),
        "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id),
        "local_start": "2026-11-02T09:00",
    }

    response = clinic.client(clinic.reception).post("/api/v1/appointments/", payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-11-02T09:00:00-05:00"


def test_nine_am_bookings_on_both_sides_of_the_november_change_are_nine_local(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)

    before = book(client, clinic, "2026-10-29T09:00:00-04:00").json()
    after = book(client, clinic, "2026-11-02T09:00:00-05:00").json()

    assert before["start"] == "2026-10-29T09:00:00-04:00"
    assert after["start"] == "2026-11-02T09:00:00-05:00"
    starts = Appointment.objects.order_by("start").values_list("start", flat=True)
    assert [s.hour for s in starts] == [13, 14]  # UTC hours differ, local hours do not


def test_nine_am_bookings_on_both_sides_of_the_march_change_are_nine_local(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    ClearanceFactory(patient=clinic.patient, valid_until=dt.date(2028, 1, 1))
    common = {
        "patient": str(clinic.patient.public_id),
        "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id),
    }

    before = client.post("/api/v1/appointments/", {**common, "local_start": "2027-03-11T09:00"}, format="json")
    after = client.post("/api/v1/appointments/", {**common, "local_start": "2027-03-15T09:00"}, format="json")

    assert before.json()["start"] == "2027-03-11T09:00:00-05:00"
    assert after.json()["start"] == "2027-03-15T09:00:00-04:00"


def test_a_nonexistent_local_time_is_refused_with_a_clear_message(clinic: Clinic) -> None:
    # Sunday 2027-03-14 02:30 does not exist in New York; the location is closed anyway,
    # but the time itself is refused first, with a message that says why.
    payload = {
        "patient": str(clinic.patient.public_id),
        "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id),
        "local_start": "2027-03-14T02:30",
    }

    response = clinic.client(clinic.reception).post("/api/v1/appointments/", payload, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "nonexistent_local_time"
    assert "02:30 does not exist on 2027-03-14" in response.json()["detail"]


# --- the status machine ---------------------------------------------------------------------


def _booked(clinic: Clinic) -> str:
    response = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9))
    assert response.status_code == 201
    return str(response.json()["id"])


def test_a_visit_goes_from_scheduled_to_completed(clinic: Clinic) -> None:
    appointment = _booked(clinic)
    reception, clinician = clinic.client(clinic.reception), clinic.client(clinic.clinician)

    for client, action, status, at in (
        (reception, "confirm", "confirmed", ny(MONDAY, 6)),
        (reception, "check-in", "checked_in", ny(MONDAY, 8, 40)),
        (clinician, "start", "in_progress", ny(MONDAY, 9)),
        (clinician, "complete", "completed", ny(MONDAY, 9, 45)),
    ):
        with time_machine.travel(at, tick=False):
            response = client.post(f"/api/v1/appointments/{appointment}/{action}/")
        assert response.status_code == 200, (action, response.json())
        assert response.json()["status"] == status


def test_an_illegal_transition_is_a_409(clinic: Clinic) -> None:
    appointment = _booked(clinic)

    response = clinic.client(clinic.clinician).post(f"/api/v1/appointments/{appointment}/complete/")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["detail"] == "Cannot complete an appointment that is scheduled."


def test_reception_may_not_start_an_infusion(clinic: Clinic) -> None:
    appointment = _booked(clinic)
    clinic.client(clinic.reception).post(f"/api/v1/appointments/{appointment}/check-in/")

    response = clinic.client(clinic.reception).post(f"/api/v1/appointments/{appointment}/start/")

    assert response.status_code == 403


def test_cancelling_needs_a_reason(clinic: Clinic) -> None:
    appointment = _booked(clinic)

    response = clinic.client(clinic.reception).post(f"/api/v1/appointments/{appointment}/cancel/", {})

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_cancelling_inside_the_window_is_flagged_late(clinic: Clinic) -> None:
    appointment = _booked(clinic)
    client = clinic.client(clinic.reception)

    with time_machine.travel(ny(MONDAY, 8), tick=False):
        response = client.post(f"/api/v1/appointments/{appointment}/cancel/", {"reason": "Car broke down"})

    assert response.status_code == 200
    assert response.json()["cancelled_late"] is True
    assert response.json()["cancel_reason"] == "Car broke down"


def test_cancelling_days_ahead_is_not_late(clinic: Clinic) -> None:
    appointment = _booked(clinic)

    response = clinic.client(clinic.reception).post(f"/api/v1/appointments/{appointment}/cancel/", {"reason": "Trip"})

    assert response.json()["cancelled_late"] is False
    assert response.json()["status"] == "cancelled"


def test_a_no_show_frees_the_chair(clinic: Clinic) -> None:
    appointment = _booked(clinic)
    with time_machine.travel(ny(MONDAY, 9, 20), tick=False):
        marked = clinic.client(clinic.reception).post(f"/api/v1/appointments/{appointment}/no-show/")

    assert marked.status_code == 200, marked.json()
    assert Appointment.objects.get(public_id=appointment).status == AppointmentStatus.NO_SHOW
    again = book(clinic.client(clinic.reception), clinic, ny(MONDAY, 9), patient=str(clinic.patient2.public_id))
    assert again.status_code == 201, again.json()


# --- rescheduling ---------------------------------------------------------------------------------


def test_rescheduling_moves_the_visit_and_asks_for_confirmation_again(clinic: Clinic) -> None:
    appointment = _booked(clinic)
    client = clinic.client(clinic.reception)
    client.post(f"/api/v1/appointments/{appointment}/confirm/")

    response = client.patch(
        f"/api/v1/appointments/{appointment}/", {"start": ny(MONDAY, 13).isoformat()}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["start"] == "2026-10-05T13:00:00-04:00"
    assert response.json()["status"] == "scheduled"


def test_a_visit_whose_reminders_were_sent_or_skipped_can_be_moved_and_is_reminded_of_its_new_time(
    clinic: Clinic,
) -> None:
    # given: a visit this afternoon (its 72-hour reminder skipped when booked), whose 24-hour reminder was sent
    clinic.patient.email_consent = True
    clinic.patient.save(update_fields=["email_consent"])
    client = clinic.client(clinic.reception)
    booked = client.post("/api/v1/appointments/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": ny(dt.date(2026, 10, 1), 13).isoformat(),
    }, format="json")  # fmt: skip
    assert booked.status_code == 201, booked.json()
    visit = Appointment.objects.get(public_id=booked.json()["id"])
    handled = {reminder.offset_hours: reminder.status for reminder in visit.reminders.filter(channel="email")}
    assert handled[72] == ReminderStatus.SKIPPED
    visit.reminders.filter(offset_hours=24, channel="email").update(status=ReminderStatus.SENT)

    # when: it moves to Monday, then back to the same day at another time
    moved = client.patch(f"/api/v1/appointments/{visit.public_id}/", {"start": ny(MONDAY, 13).isoformat()},
                         format="json")  # fmt: skip
    back = client.patch(f"/api/v1/appointments/{visit.public_id}/",
                        {"start": ny(dt.date(2026, 10, 1), 14).isoformat()}, format="json")  # fmt: skip

    # then: both moves succeed; the sent reminder stays sent, and the new time has its own reminders
    assert moved.status_code == 200, moved.json()
    assert back.status_code == 200, back.json()
    email = visit.reminders.filter(channel="email")
    assert email.filter(status=ReminderStatus.SENT, offset_hours=24).count() == 1
    current = email.exclude(status=ReminderStatus.CANCELLED).filter(visit_start=ny(dt.date(2026, 10, 1), 14))
    offsets = list(current.values_list("offset_hours", flat=True))
    assert {24, 72} <= set(offsets)
    assert len(offsets) == len(set(offsets))


@pytest.mark.parametrize(
    "fields",
    [{"start": "9999-12-31T23:00:00-05:00"}, {"start": "0001-01-01T00:30:00+01:00"},
     {"local_start": "9999-12-31T23:30"}, {"start": "1899-12-31T09:00:00-05:00"},
     {"start": "2201-01-01T09:00:00-05:00"}],
)  # fmt: skip
def test_a_start_outside_the_years_1900_to_2200_is_a_400_naming_the_field(
    clinic: Clinic, fields: dict[str, str]
) -> None:
    appointment = _booked(clinic)
    response = clinic.client(clinic.reception).patch(f"/api/v1/appointments/{appointment}/", fields, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == list(fields)


def test_rescheduling_into_a_taken_slot_is_a_409_and_changes_nothing(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    appointment = _booked(clinic)
    book(client, clinic, ny(MONDAY, 13), service_type=str(clinic.consult.public_id))

    response = client.patch(
        f"/api/v1/appointments/{appointment}/", {"start": ny(MONDAY, 13).isoformat()}, format="json"
    )

    assert response.status_code == 409
    assert Appointment.objects.get(public_id=appointment).start == ny(MONDAY, 9)


def test_a_completed_visit_cannot_be_moved(clinic: Clinic) -> None:
    appointment = _booked(clinic)
    Appointment.objects.filter(public_id=appointment).update(status=AppointmentStatus.COMPLETED)

    response = clinic.client(clinic.reception).patch(
        f"/api/v1/appointments/{appointment}/", {"start": ny(MONDAY, 13).isoformat()}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


# --- roles ---------------------------------------------------------------------------------


def test_accountants_and_clinicians_cannot_book(clinic: Clinic) -> None:
    for user in (clinic.accountant, clinic.clinician):
        response = book(clinic.client(user), clinic, ny(MONDAY, 9))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_anonymous_callers_get_401(clinic: Clinic) -> None:
    assert book(APIClient(), clinic, ny(MONDAY, 9)).status_code == 401


def test_patients_see_only_their_own_appointments(clinic: Clinic) -> None:
    from backend.roles import Role
    from tests.factories import UserFactory

    mine = _booked(clinic)
    theirs = book(
        clinic.client(clinic.reception), clinic, ny(MONDAY, 11), patient=str(clinic.patient2.public_id)
    ).json()["id"]
    user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = user
    clinic.patient.save()
    client = clinic.client(user)

    listing = client.get("/api/v1/appointments/").json()
    assert [row["id"] for row in listing["results"]] == [mine]
    other = client.get(f"/api/v1/appointments/{theirs}/")
    assert other.status_code == 404
    assert "patient" not in other.json()
    assert client.post(f"/api/v1/appointments/{theirs}/cancel/", {"reason": "x"}).status_code == 404
    assert book(client, clinic, ny(MONDAY, 13)).status_code == 403
    assert client.post(f"/api/v1/appointments/{mine}/confirm/").json()["status"] == "confirmed"


def test_staff_of_another_clinic_group_see_nothing(clinic: Clinic) -> None:
    from backend.roles import Role
    from tests.factories import UserFactory

    appointment = _booked(clinic)
    outsider = UserFactory(roles=[Role.RECEPTION])

    client = clinic.client(outsider)
    assert client.get("/api/v1/appointments/").json()["count"] == 0
    assert client.get(f"/api/v1/appointments/{appointment}/").status_code == 404
    assert book(client, clinic, ny(MONDAY, 13)).status_code == 400  # the patient is unknown to them


def test_list_filters_by_local_date_status_and_location(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    _booked(clinic)
    book(client, clinic, ny(dt.date(2026, 10, 6), 9), patient=str(clinic.patient2.public_id))

    by_date = client.get("/api/v1/appointments/", {"date": "2026-10-06"}).json()
    by_status = client.get("/api/v1/appointments/", {"status": "cancelled"}).json()
    by_location = client.get("/api/v1/appointments/", {"location": str(clinic.location.public_id)}).json()
    by_range = client.get(
        "/api/v1/appointments/", {"from": "2026-10-06T00:00:00-04:00", "to": "2026-10-07T00:00:00-04:00"}
    ).json()

    assert [row["patient"] for row in by_date["results"]] == [str(clinic.patient2.public_id)]
    assert by_status["count"] == 0
    assert by_location["count"] == 2
    assert by_range["count"] == 1


def test_a_malformed_filter_is_a_400(clinic: Clinic) -> None:
    response = clinic.client(clinic.reception).get("/api/v1/appointments/", {"date": "yesterday"})

    assert response.status_code == 400
    assert "date" in response.json()["errors"]


def test_a_clinician_reads_their_own_schedule_by_staff_filter(clinic: Clinic) -> None:
    reception = clinic.client(clinic.reception)
    book(reception, clinic, ny(MONDAY, 9), staff=[str(clinic.nurse.public_id)])
    book(reception, clinic, ny(MONDAY, 9), staff=[str(clinic.nurse2.public_id)], patient=str(clinic.patient2.public_id))

    schedule = clinic.client(clinic.clinician).get("/api/v1/appointments/", {"staff": str(clinic.nurse.public_id)})

    assert schedule.status_code == 200
    assert [row["staff"][0]["name"] for row in schedule.json()["results"]] == ["Nurse Joy"]


# --- staff shifts -------------------------------------------------------------------------------------


def _only_nurse_joy_until_noon_on_mondays(clinic: Clinic) -> None:
    Shift.objects.filter(staff=clinic.nurse2).delete()
    Shift.objects.filter(staff=clinic.nurse, weekday=0).update(closes=dt.time(12, 0))


def test_no_nurse_is_assigned_outside_their_shift(clinic: Clinic) -> None:
    _only_nurse_joy_until_noon_on_mondays(clinic)
    client = clinic.client(clinic.reception)

    inside = book(client, clinic, ny(MONDAY, 10))
    after = book(client, clinic, ny(MONDAY, 13), patient=str(clinic.patient2.public_id))

    assert inside.status_code == 201, inside.json()
    assert [member["name"] for member in inside.json()["staff"]] == ["Nurse Joy"]
    assert after.status_code == 422
    assert after.json()["code"] == "staff_unavailable"
    assert "No nurse is working" in after.json()["detail"]


def test_a_named_nurse_off_shift_is_refused_even_when_the_chair_is_free(clinic: Clinic) -> None:
    _only_nurse_joy_until_noon_on_mondays(clinic)
    client = clinic.client(clinic.reception)

    named_off_shift = book(client, clinic, ny(MONDAY, 10), staff=[str(clinic.nurse2.public_id)])
    named_after_noon = book(client, clinic, ny(MONDAY, 11, 30), staff=[str(clinic.nurse.public_id)])

    assert named_off_shift.status_code == 422
    assert named_off_shift.json()["errors"] == {"staff": ["Nurse Kim is not on shift then."]}
    assert named_after_noon.status_code == 422  # the visit runs past her shift's end at 12:00
    assert named_after_noon.json()["errors"] == {"staff": ["Nurse Joy is not on shift then."]}
    assert not Appointment.objects.exists()
