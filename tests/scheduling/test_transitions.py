"""The status machine: clock rules, the clearance gate at check-in and start, and one cancellation path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client, RequestFactory

from backend.models import AuditEvent
from scheduling.admin import AppointmentAdmin
from scheduling.booking.protocol import SeriesProtocol
from scheduling.links import make_token
from scheduling.models import Appointment, AppointmentStaff, AppointmentStatus, ClearanceStatus, Series
from scheduling.services.appointments import appointment_book
from scheduling.services.patient_replies import sms_reply
from scheduling.services.series import series_cancel
from scheduling.signals import appointment_status_changed
from tests.factories import ClearanceFactory
from tests.scheduling.conftest import Clinic, book_series, ny, recorded_while

MONDAY = dt.date(2026, 10, 5)


def _visit(clinic: Clinic, hour: int = 9, patient: Any = None) -> Appointment:
    return appointment_book(actor=clinic.reception, patient=patient or clinic.patient, service_type=clinic.infusion,
                            location=clinic.location, start=ny(MONDAY, hour))  # fmt: skip


def _post(clinic: Clinic, user: Any, visit: Appointment, action: str, **body: Any) -> Any:
    return clinic.client(user).post(f"/api/v1/appointments/{visit.public_id}/{action}/", body, format="json")


# --- the clock ---------------------------------------------------------------------------------------


def test_a_check_in_three_days_early_is_refused_saying_when_it_opens(clinic: Clinic) -> None:
    visit = _visit(clinic)

    with time_machine.travel(ny(MONDAY, 9) - dt.timedelta(days=3), tick=False):
        response = _post(clinic, clinic.reception, visit, "check-in")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "not_yet_possible"
    assert body["opens_at"] == "2026-10-05T07:00:00-04:00"
    assert "Check-in is possible from Mon 05 Oct 2026 at 07:00" in body["detail"]
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.SCHEDULED


def test_check_in_opens_the_locations_configured_time_before_the_start(clinic: Clinic) -> None:
    clinic.location.check_in_opens_minutes = 30
    clinic.location.save()
    visit = _visit(clinic)

    with time_machine.travel(ny(MONDAY, 8, 29), tick=False):
        early = _post(clinic, clinic.reception, visit, "check-in")
    with time_machine.travel(ny(MONDAY, 8, 30), tick=False):
        on_time = _post(clinic, clinic.reception, visit, "check-in")

    assert early.status_code == 409
    assert on_time.status_code == 200, on_time.json()
    assert on_time.json()["status"] == "checked_in"


def test_a_no_show_the_evening_before_is_refused_and_drafts_no_fee(clinic: Clinic) -> None:
    visit = _visit(clinic)

    with time_machine.travel(ny(MONDAY, 9) - dt.timedelta(hours=14), tick=False):
        refused = _post(clinic, clinic.reception, visit, "no-show")
    with time_machine.travel(ny(MONDAY, 9, 15), tick=False):
        allowed = _post(clinic, clinic.reception, visit, "no-show")

    assert refused.status_code == 409
    assert refused.json()["code"] == "not_yet_possible"
    assert refused.json()["opens_at"] == "2026-10-05T09:15:00-04:00"
    assert allowed.status_code == 200
    assert allowed.json()["status"] == "no_show"


def test_the_answer_says_when_each_change_becomes_possible(clinic: Clinic) -> None:
    visit = _visit(clinic)

    body = clinic.client(clinic.reception).get(f"/api/v1/appointments/{visit.public_id}/").json()

    assert body["next_actions"] == [
        {"action": "confirm", "opens_at": None},
        {"action": "check_in", "opens_at": "2026-10-05T07:00:00-04:00"},
        {"action": "no_show", "opens_at": "2026-10-05T09:15:00-04:00"},
        {"action": "cancel", "opens_at": None},
    ]


# --- the clearance gate ---------------------------------------------------------------------------------


def test_a_visit_booked_while_cleared_cannot_be_started_once_the_clearance_is_revoked(clinic: Clinic) -> None:
    # given a visit booked while cleared, then checked in
    visit = _visit(clinic)
    with time_machine.travel(ny(MONDAY, 8, 45), tick=False):
        assert _post(clinic, clinic.reception, visit, "check-in").status_code == 200
        # when a clinician records "not cleared" and someone tries to start the infusion
        ClearanceFactory(patient=clinic.patient, status=ClearanceStatus.NOT_CLEARED, valid_until=None)
        refused = _post(clinic, clinic.clinician, visit, "start")

    # then it is refused, saying why
    assert refused.status_code == 422
    assert refused.json()["code"] == "not_cleared"
    assert "not cleared" in refused.json()["detail"]
    assert refused.json()["can_override"] is True
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.CHECKED_IN


def test_an_expired_clearance_stops_check_in(clinic: Clinic) -> None:
    visit = _visit(clinic)
    ClearanceFactory(patient=clinic.patient, valid_until=dt.date(2026, 10, 4))  # renewed, but only until Sunday

    with time_machine.travel(ny(MONDAY, 8, 45), tick=False):
        response = _post(clinic, clinic.reception, visit, "check-in")

    assert response.status_code == 422
    assert "expires on 2026-10-04" in response.json()["detail"]


def test_a_clinician_overrides_with_a_reason_and_the_override_is_audited(clinic: Clinic) -> None:
    visit = _visit(clinic)
    ClearanceFactory(patient=clinic.patient, status=ClearanceStatus.NOT_CLEARED, valid_until=None)

    with time_machine.travel(ny(MONDAY, 8, 45), tick=False):
        by_reception = _post(clinic, clinic.reception, visit, "check-in", clearance_override="Patient insists")
        by_clinician = _post(
            clinic, clinic.clinician, visit, "check-in", clearance_override="Reassessed at the door: cleared"
        )

    assert by_reception.status_code == 403
    assert by_clinician.status_code == 200, by_clinician.json()
    event = AuditEvent.objects.get(action="clearance_override")
    assert (event.actor_id, event.object_id, event.patient_id) == (
        clinic.clinician.pk, str(visit.public_id), clinic.patient.public_id,
    )  # fmt: skip
    assert event.details["reason"] == "Reassessed at the door: cleared"


# --- one cancellation path -------------------------------------------------------------------------------


@pytest.fixture
def status_changes() -> Any:
    seen: list[tuple[int, str, str]] = []

    def receiver(sender: Any, *, appointment: Appointment, previous: str, **kwargs: Any) -> None:
        seen.append((appointment.pk, previous, appointment.status))

    appointment_status_changed.connect(receiver, dispatch_uid="test-status-changes")
    yield seen
    appointment_status_changed.disconnect(dispatch_uid="test-status-changes")


def _series(clinic: Clinic) -> Series:
    protocol = SeriesProtocol(count=3, first_date=MONDAY, local_time=dt.time(10), min_gap_hours=48)
    return book_series(actor=clinic.reception, patient=clinic.patient2, service_type=clinic.infusion,
                       location=clinic.location, protocol=protocol)  # fmt: skip


def _cancel_through_admin(user: Any, visit: Appointment) -> None:
    """The admin's bulk "cancel" action, as the changelist calls it."""
    request = RequestFactory().post("/admin/scheduling/appointment/")
    request.user = user
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    model_admin = AppointmentAdmin(Appointment, site)
    action: Any = model_admin.get_actions(request)["action_cancel"]
    action[0](model_admin, request, Appointment.objects.filter(pk=visit.pk))


def test_every_cancellation_entry_point_sends_the_status_change(clinic: Clinic, status_changes: Any) -> None:
    single, by_link, by_admin = _visit(clinic, 9), _visit(clinic, 12), _visit(clinic, 14, clinic.patient2)
    series = _series(clinic)

    _post(clinic, clinic.reception, single, "cancel", reason="Sick")
    Client().post(f"/r/cancel/{make_token(by_link, 'cancel')}/")
    _cancel_through_admin(clinic.reception, by_admin)
    clinic.client(clinic.reception).post(f"/api/v1/series/{series.public_id}/cancel/", {"reason": "Moved away"})

    series_visits = list(series.appointments.values_list("pk", flat=True))
    expected = {(pk, "scheduled", "cancelled") for pk in [single.pk, by_link.pk, by_admin.pk, *series_visits]}
    assert set(status_changes) == expected
    assert len(status_changes) == 3 + 3


def test_cancelling_the_rest_of_a_series_releases_every_staff_hold_in_one_statement(clinic: Clinic) -> None:
    series = _series(clinic)
    queries = recorded_while(lambda: series_cancel(actor=clinic.reception, series=series, reason="Moved away"))

    staff_updates = [q for q in queries if q.startswith('UPDATE "scheduling_appointmentstaff"')]
    assert len(staff_updates) == 1
    assert not AppointmentStaff.objects.filter(appointment__series=series, is_blocking=True).exists()
    assert set(series.appointments.values_list("status", flat=True)) == {"cancelled"}


def test_an_admin_action_is_refused_to_a_role_the_api_refuses(clinic: Clinic) -> None:
    visit = _visit(clinic)

    _cancel_through_admin(clinic.clinician, visit)  # the API refuses clinicians "cancel"

    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.SCHEDULED


# --- SMS replies from a shared phone ---------------------------------------------------------------------


def test_c_from_a_phone_shared_by_two_patients_asks_which_visit_then_confirms_the_chosen_one(clinic: Clinic) -> None:
    phone = "+16175550199"
    for patient in (clinic.patient, clinic.patient2):
        patient.phone = phone
        patient.save()
    alex, jamie = _visit(clinic, 9), _visit(clinic, 12, clinic.patient2)

    question = sms_reply(from_number=phone, body="C")

    clinic_name = clinic.group.name
    assert question == (
        f"{clinic_name}: Several visits are waiting for confirmation. "
        "Reply C1 for Alex at Boston on Mon 05 Oct at 09:00; C2 for Jamie at Boston on Mon 05 Oct at 12:00."
    )
    assert set(Appointment.objects.values_list("status", flat=True)) == {"scheduled"}

    answer = sms_reply(from_number=phone, body=" c2 ")

    assert answer == f"{clinic_name}: Thank you: the visit of Jamie at Boston on Mon 05 Oct at 12:00 is confirmed."
    assert Appointment.objects.get(pk=jamie.pk).status == "confirmed"
    assert Appointment.objects.get(pk=alex.pk).status == "scheduled"
    # one visit left: C confirms it, naming it
    assert sms_reply(from_number=phone, body="C") == (
        f"{clinic_name}: Thank you: the visit of Alex at Boston on Mon 05 Oct at 09:00 is confirmed."
    )
    assert (
        sms_reply(from_number=phone, body="C7")
        == f"{clinic_name}: We found no visit waiting for confirmation. Please call the clinic."
    )
