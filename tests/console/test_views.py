"""Each console page's rules, with Django's test client (the browser tests prove the flows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.models import AuditEvent
from scheduling.models import Appointment, Clearance, Series
from scheduling.services.appointments import appointment_book
from tests.console.conftest import TODAY, ConsoleClinic, signed_in
from tests.factories import ClearanceFactory, PatientFactory
from tests.scheduling.conftest import ny

MONDAY, TUESDAY = dt.date(2026, 10, 5), dt.date(2026, 10, 6)


def _board_queries(c: ConsoleClinic, day: dt.date) -> int:
    client = signed_in(c.clinic.reception)
    client.get("/console/day/", {"date": f"{day:%Y-%m-%d}"})  # the location's setup is cached per process
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/console/day/", {"date": f"{day:%Y-%m-%d}", "partial": "board"})
    assert response.status_code == 200
    return len(captured)


def test_the_day_board_costs_the_same_queries_for_one_visit_or_many(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    one = _board_queries(c, TODAY)
    for hour in (10, 11, 12, 13, 14):
        patient = PatientFactory(group=c.clinic.group)
        ClearanceFactory(patient=patient)
        appointment_book(actor=c.clinic.reception, patient=patient, service_type=c.clinic.infusion,
                         location=c.clinic.location, start=ny(TODAY, hour))  # fmt: skip
    assert _board_queries(c, TODAY) == one


def test_the_board_shows_each_visit_once_as_a_link_in_its_chair_with_time_patient_service_and_status(
    console_clinic: ConsoleClinic,
) -> None:
    html = signed_in(console_clinic.clinic.reception).get("/console/day/").content.decode()
    visit = console_clinic.visit
    assert html.count(f'href="/console/visits/{visit.public_id}/"') == 1
    assert f"09:00 {visit.patient.first_name} {visit.patient.last_name}" in html
    assert "Infusion · Scheduled" in html
    assert "Staff on shift" in html


def test_the_board_polls_a_fragment_that_is_only_the_board(console_clinic: ConsoleClinic) -> None:
    client = signed_in(console_clinic.clinic.reception)
    page = client.get("/console/day/").content.decode()
    fragment = client.get("/console/day/", {"partial": "board"}).content.decode()
    assert 'hx-trigger="every 10s, board-changed from:body"' in page
    assert "<html" not in fragment
    assert 'aria-label="Day board"' in fragment


def _series_form(c: ConsoleClinic, **changes: Any) -> dict[str, Any]:
    return {"patient": str(c.clinic.patient.public_id), "location": str(c.clinic.location.public_id),
            "service_type": str(c.clinic.infusion.public_id), "first_date": f"{MONDAY:%Y-%m-%d}", "count": "3",
            "time": "10:00", "idempotency_key": "k-1", **changes}  # fmt: skip


def _take_both_chairs_on_tuesday(c: ConsoleClinic) -> None:
    other = PatientFactory(group=c.clinic.group)
    ClearanceFactory(patient=other)
    appointment_book(actor=c.clinic.reception, patient=other, service_type=c.clinic.infusion,
                     location=c.clinic.location, start=ny(TUESDAY, 10))  # fmt: skip


def test_a_series_with_an_alternative_not_accepted_books_nothing_and_shows_the_plan(
    console_clinic: ConsoleClinic,
) -> None:
    c = console_clinic
    _take_both_chairs_on_tuesday(c)
    response = signed_in(c.clinic.reception).post("/console/series/book/", _series_form(c))
    assert response.status_code == 409
    assert "Accept " in response.content.decode()
    assert not Series.objects.filter(patient=c.clinic.patient).exists()


def test_a_series_posted_twice_with_one_key_is_booked_once(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    client = signed_in(c.clinic.reception)
    first = client.post("/console/series/book/", _series_form(c))
    second = client.post("/console/series/book/", _series_form(c))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Series.objects.filter(patient=c.clinic.patient).count() == 1
    assert Appointment.objects.filter(patient=c.clinic.patient, series__isnull=False).count() == 3


def test_the_plan_offers_the_alternative_that_booking_then_uses(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    _take_both_chairs_on_tuesday(c)
    client = signed_in(c.clinic.reception)
    plan = client.post("/console/series/plan/", _series_form(c)).content.decode()
    accept = plan.split('name="accept" value="')[1].split('"')[0]
    booked = client.post("/console/series/book/", _series_form(c, accept=accept))
    assert booked.status_code == 302
    starts = set(
        Appointment.objects.filter(patient=c.clinic.patient, series__isnull=False).values_list("start", flat=True)
    )
    assert dt.datetime.fromisoformat(accept.split("@")[1]) in starts
    assert ny(TUESDAY, 10) not in starts


def test_the_patient_page_warns_when_a_booked_infusion_falls_outside_the_clearance(
    console_clinic: ConsoleClinic,
) -> None:
    c = console_clinic
    client = signed_in(c.clinic.reception)
    assert (
        "outside the patient's clearance"
        not in client.get(f"/console/patients/{c.clinic.patient.public_id}/").content.decode()
    )
    Clearance.objects.filter(patient=c.clinic.patient).update(valid_until=TODAY - dt.timedelta(days=1))
    page = client.get(f"/console/patients/{c.clinic.patient.public_id}/").content.decode()
    assert "1 booked infusion falls outside the patient's clearance" in page


def test_a_clinician_sees_no_money_on_the_patient_page(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    path = f"/console/patients/{c.clinic.patient.public_id}/"
    assert "Invoices and payments" in signed_in(c.clinic.reception).get(path).content.decode()
    assert "Invoices and payments" not in signed_in(c.clinic.clinician).get(path).content.decode()


def test_another_groups_visit_is_not_found(console_clinic: ConsoleClinic) -> None:
    from tests.scheduling.conftest import make_clinic

    stranger = make_clinic().reception
    assert signed_in(stranger).get(f"/console/visits/{console_clinic.visit.public_id}/").status_code == 404


@pytest.mark.django_db
def test_sign_in_is_limited_like_the_api_with_retry_after(client: Any, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_username": "2/min"}
    for _ in range(2):
        assert client.post("/console/login/", {"username": "nobody", "password": "wrong"}).status_code == 200
    refused = client.post("/console/login/", {"username": "nobody", "password": "wrong"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many sign-in attempts" in refused.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(console_clinic: ConsoleClinic, client: Any) -> None:
    response = client.get("/console/day/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")


def test_check_in_without_a_clearance_takes_a_clinicians_recorded_override(console_clinic: ConsoleClinic) -> None:
    c = console_clinic
    Clearance.objects.filter(patient=c.clinic.patient).update(valid_until=TODAY - dt.timedelta(days=1))
    path = f"/console/visits/{c.visit.public_id}/"
    with time_machine.travel(ny(TODAY, 8, 30), tick=False):  # check-in is open
        reception_panel = signed_in(c.clinic.reception).get(path).content.decode()
        assert "No clearance covers this visit's day." in reception_panel
        assert "Clearance override reason" not in reception_panel
        refused = signed_in(c.clinic.reception).post(f"{path}check_in/")
        assert refused.status_code == 422  # the API's status for not_cleared
        assert "A clinician may override" in refused.content.decode()

        admin = signed_in(c.clinic.admin)
        assert "Clearance override reason (check in)" in admin.get(path).content.decode()
        response = admin.post(f"{path}check_in/", {"clearance_override": "Cleared by phone with Dr. Chen"})
        assert response.status_code in (200, 302)
    c.visit.refresh_from_db()
    assert c.visit.status == "checked_in"
    override = AuditEvent.objects.get(action="clearance_override")
    assert override.details["reason"] == "Cleared by phone with Dr. Chen"
