"""Due measures follow the series; maintenance suggestions open once per patient and book a booster."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from outcomes.models import MaintenancePolicy, MaintenanceSuggestion, MeasureSchedule, SuggestionStatus
from outcomes.services.maintenance import suggestions_sweep
from scheduling.models import Appointment, AppointmentStatus, Series, SeriesTemplate
from tests.outcomes.conftest import answers_totalling
from tests.scheduling.conftest import Clinic, ny

pytestmark = pytest.mark.usefixtures("instruments")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def book_induction(clinic: Clinic, *, follow_up_weeks: list[int] | None = None) -> Series:
    """Six infusions on Mondays and Wednesdays at 09:00 New York time from 2026-10-26 (across the DST change),
    from a template asking for a PHQ-9 before visits 1, 4 and 6."""
    template = SeriesTemplate.objects.create(
        group=clinic.group, location=clinic.location, name="Induction", service_type=clinic.infusion, count=6,
        weekdays=[0, 2], local_time=dt.time(9), min_gap_hours=24, max_per_week=3,
    )  # fmt: skip
    MeasureSchedule.objects.create(template=template, instrument_code="phq-9", before_visits=[1, 4, 6],
                                   follow_up_weeks=follow_up_weeks or [])  # fmt: skip
    payload = {"patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
               "template": str(template.public_id), "first_date": "2026-10-26"}  # fmt: skip
    response = clinic.client(clinic.reception).post("/api/v1/series/", payload, format="json")
    assert response.status_code == 201, response.json()
    return Series.objects.get(public_id=response.json()["id"])


def due(clinic: Clinic) -> list[dict[str, Any]]:
    response = clinic.client(clinic.reception).get(f"/api/v1/patients/{clinic.patient.public_id}/measures/due/")
    assert response.status_code == 200, response.content
    rows: list[dict[str, Any]] = response.json()
    return rows


def local(value: str, zone: ZoneInfo) -> str:
    return dt.datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def phq9(clinic: Clinic, total: int, **extra: Any) -> dict[str, Any]:
    body = {"instrument": "phq-9", "answers": answers_totalling(total, 9, 3), **extra}
    response = clinic.client(clinic.clinician).post(f"/api/v1/patients/{clinic.patient.public_id}/measures/", body,
                                                    format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def test_the_forms_are_due_before_visits_1_4_and_6_and_follow_the_series(clinic: Clinic) -> None:
    clinic.patient.timezone = "America/Los_Angeles"
    clinic.patient.save()
    series = book_induction(clinic, follow_up_weeks=[2, 4, 8])
    rows = due(clinic)
    before = [row for row in rows if row["visit_number"]]
    assert [(row["visit_number"], local(row["due_at"], LOS_ANGELES)) for row in before] == [
        (1, "2026-10-26 06:00 PDT"), (4, "2026-11-04 06:00 PST"), (6, "2026-11-11 06:00 PST"),
    ]  # fmt: skip
    assert before[0]["due_at"] == "2026-10-26T09:00:00-04:00"  # in the location's offset
    assert [(row["weeks_after"], row["due_at"][:10]) for row in rows if row["weeks_after"]] == [
        (2, "2026-11-25"), (4, "2026-12-09"), (8, "2027-01-06"),
    ]  # fmt: skip
    assert {row["status"] for row in rows} == {"upcoming"}
    assert set(rows[0]) >= {"series", "instrument", "opens_at", "closes_at", "appointment", "answered_at"}
    assert "total" not in rows[0]  # reception sees status, never scores

    visits = list(series.appointments.order_by("start"))
    new_start = {"start": ny(dt.date(2026, 11, 5), 9).isoformat()}
    moved = clinic.client(clinic.reception).patch(f"/api/v1/appointments/{visits[3].public_id}/", new_start,
                                                  format="json")  # fmt: skip
    assert moved.status_code == 200, moved.content
    fourth = next(row for row in due(clinic) if row["visit_number"] == 4)
    assert (fourth["due_at"], fourth["appointment"]) == ("2026-11-05T09:00:00-05:00", str(visits[3].public_id))

    cancelled = clinic.client(clinic.reception).post(
        f"/api/v1/series/{series.public_id}/cancel/", {"reason": "Moving away", "from": "2026-11-05T00:00:00-05:00"},
        format="json",
    )  # fmt: skip
    assert cancelled.status_code == 200, cancelled.content
    rows = due(clinic)
    assert [row["visit_number"] for row in rows if row["visit_number"]] == [1]  # visits 4 and 6 are gone
    assert [row["due_at"][:10] for row in rows if row["weeks_after"]] == ["2026-11-16", "2026-11-30", "2026-12-28"]


def test_an_answer_in_the_window_or_tied_to_the_visit_answers_the_form(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    series = book_induction(clinic)
    first = series.appointments.order_by("start").first()
    assert first is not None
    frozen_now.move_to(ny(dt.date(2026, 10, 24), 10))  # two days before visit 1: its window is open
    assert due(clinic)[0]["status"] == "due"
    phq9(clinic, 12)
    rows = due(clinic)
    assert [row["status"] for row in rows] == ["answered", "upcoming", "upcoming"]
    frozen_now.move_to(ny(dt.date(2026, 11, 5), 10))  # visit 4 (Nov 4) has passed unanswered
    assert [row["status"] for row in due(clinic)] == ["answered", "overdue", "upcoming"]
    fourth = Appointment.objects.filter(series=series).order_by("start")[3]
    phq9(clinic, 10, appointment=str(fourth.public_id))  # entered late, for that visit
    assert [row["status"] for row in due(clinic)] == ["answered", "answered", "upcoming"]


def test_accountants_get_404_and_patients_see_their_own_due_forms(clinic: Clinic) -> None:
    book_induction(clinic)
    url = f"/api/v1/patients/{clinic.patient.public_id}/measures/due/"
    assert clinic.client(clinic.accountant).get(url).status_code == 404


def test_a_rising_phq9_after_the_series_opens_one_suggestion_that_books_a_visit_of_the_series(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    series = book_induction(clinic)
    for moment, total in [(ny(dt.date(2026, 10, 26), 8), 18), (ny(dt.date(2026, 11, 4), 8), 12),
                          (ny(dt.date(2026, 11, 11), 8), 6), (ny(dt.date(2026, 11, 25), 10), 4)]:  # fmt: skip
        frozen_now.move_to(moment)
        phq9(clinic, total)
    assert not MaintenanceSuggestion.objects.exists()
    frozen_now.move_to(ny(dt.date(2026, 12, 23), 10))  # six weeks after the series
    phq9(clinic, 10)
    suggestion = MaintenanceSuggestion.objects.get()
    assert (suggestion.rule, suggestion.series, suggestion.status) == ("phq9_rise", series, SuggestionStatus.OPEN)
    phq9(clinic, 15)  # rising again: still the one suggestion
    assert MaintenanceSuggestion.objects.count() == 1

    listed = clinic.client(clinic.reception).get("/api/v1/maintenance-suggestions/?status=open").json()["results"]
    assert [(row["patient"], row["rule"], row["reason"]) for row in listed] == [
        (str(clinic.patient.public_id), "phq9_rise", "PHQ-9 rose 5 or more above its lowest after the series"),
    ]  # fmt: skip
    assert "measure" not in listed[0]
    assert "total" not in listed[0]
    booked = clinic.client(clinic.reception).post(
        f"/api/v1/maintenance-suggestions/{suggestion.public_id}/book/", {"first_date": "2026-12-28", "time": "09:00"},
        format="json",
    )  # fmt: skip
    assert booked.status_code == 200, booked.content
    visit = Appointment.objects.get(public_id=booked.json()["appointment"])
    assert (visit.series, visit.start, visit.status) == (series, ny(dt.date(2026, 12, 28), 9),
                                                        AppointmentStatus.SCHEDULED)  # fmt: skip
    assert (booked.json()["status"], booked.json()["closed_by"]) == ("booked", clinic.reception.username)
    again = clinic.client(clinic.reception).post(f"/api/v1/maintenance-suggestions/{suggestion.public_id}/book/", {},
                                                 format="json")  # fmt: skip
    assert again.status_code == 409


def test_the_time_rule_opens_a_suggestion_without_remission_and_a_dismissal_needs_a_reason(
    clinic: Clinic, frozen_now: time_machine.Traveller
) -> None:
    MaintenancePolicy.objects.create(group=clinic.group, weeks_since_last_infusion=6)
    book_induction(clinic)
    frozen_now.move_to(ny(dt.date(2026, 11, 25), 10))
    phq9(clinic, 7)  # mild: not in remission
    assert suggestions_sweep() == 0  # two weeks: too early
    frozen_now.move_to(ny(dt.date(2026, 12, 23), 10))
    assert suggestions_sweep() == 1
    suggestion = MaintenanceSuggestion.objects.get()
    assert suggestion.rule == "weeks_without_remission"
    url = f"/api/v1/maintenance-suggestions/{suggestion.public_id}/dismiss/"
    assert clinic.client(clinic.clinician).post(url, {"reason": " "}, format="json").status_code == 400
    dismissed = clinic.client(clinic.clinician).post(url, {"reason": "Stable; reviewed in clinic"}, format="json")
    assert (dismissed.status_code, dismissed.json()["status"]) == (200, "dismissed")
    assert clinic.client(clinic.accountant).get("/api/v1/maintenance-suggestions/").status_code == 403
    assert clinic.client(clinic.clinician).post(
        f"/api/v1/maintenance-suggestions/{suggestion.public_id}/book/", {}, format="json"
    ).status_code == 403  # fmt: skip


def test_in_remission_the_time_rule_stays_quiet(clinic: Clinic, frozen_now: time_machine.Traveller) -> None:
    book_induction(clinic)
    frozen_now.move_to(ny(dt.date(2026, 11, 25), 10))
    phq9(clinic, 3)
    frozen_now.move_to(ny(dt.date(2027, 2, 1), 10))
    assert suggestions_sweep() == 0
