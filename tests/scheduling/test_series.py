"""Series: a whole induction series in one request, all or nothing, across DST, with alternatives."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from rest_framework.test import APIClient

from backend.audit_chain import CHAIN_STATEMENTS
from backend.auth import token_issue
from backend.roles import Role
from scheduling.models import Appointment, OpeningRule, Reminder, Series, SeriesChange, SeriesTemplate, Shift
from scheduling.services.appointments import appointment_book
from tests.factories import UserFactory
from tests.scheduling.conftest import NOW, Clinic, ny, recorded_while

NEW_YORK = ZoneInfo("America/New_York")
INDUCTION = {"count": 6, "time": "09:00", "weekdays": [0, 2, 4], "min_gap_hours": 48, "max_per_week": 3,
             "within_days": 21}  # fmt: skip


def open_every_friday(clinic: Clinic) -> None:
    OpeningRule.objects.filter(location=clinic.location, weekday=4).update(every_n_weeks=1, anchor_date=None)
    Shift.objects.filter(location=clinic.location, weekday=4).update(every_n_weeks=1, anchor_date=None)


def post_series(client: APIClient, clinic: Clinic, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    payload = {
        "patient": str(clinic.patient.public_id),
        "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id),
        "first_date": "2026-10-26",
        **INDUCTION,
        **fields,
    }
    return client.post("/api/v1/series/", payload, format="json", headers=headers or {})


def local_starts(body: dict[str, Any]) -> list[str]:
    return [appointment["start"] for appointment in body["appointments"]]


def test_the_induction_example_keeps_nine_oclock_across_the_end_of_dst(clinic: Clinic) -> None:
    open_every_friday(clinic)

    response = post_series(clinic.client(clinic.reception), clinic)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active"
    assert local_starts(body) == [
        "2026-10-26T09:00:00-04:00",
        "2026-10-28T09:00:00-04:00",
        "2026-10-30T09:00:00-04:00",
        "2026-11-02T09:00:00-05:00",
        "2026-11-04T09:00:00-05:00",
        "2026-11-06T09:00:00-05:00",
    ]
    utc_hours = [a.start.hour for a in Appointment.objects.order_by("start")]
    assert utc_hours == [13, 13, 13, 14, 14, 14]
    assert SeriesChange.objects.get().kind == "booked"


def test_a_collision_on_one_visit_books_nothing_and_offers_an_alternative_that_books_cleanly(clinic: Clinic) -> None:
    open_every_friday(clinic)
    chair = str(clinic.chairs[0].public_id)
    appointment_book(actor=None, patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location,
                     start=ny(dt.date(2026, 10, 28), 9), resource=clinic.chairs[0])  # fmt: skip
    client = clinic.client(clinic.reception)

    refused = post_series(client, clinic, resource=chair)

    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "booking_conflict"
    assert [(c["index"], c["start"], c["code"]) for c in body["conflicts"]] == [
        (1, "2026-10-28T09:00:00-04:00", "booking_conflict")
    ]
    assert "Chair 1 is taken" in body["conflicts"][0]["reason"]
    assert body["alternatives"] == [
        {"index": 1, "start": "2026-10-28T09:00:00-04:00", "resource": str(clinic.chairs[1].public_id),
         "resource_name": "Chair 2"}
    ]  # fmt: skip
    assert Series.objects.count() == 0
    assert Appointment.objects.count() == 1

    accepted = post_series(client, clinic, resource=chair, accept_alternatives=True)

    assert accepted.status_code == 201, accepted.json()
    resources = [a["resource_name"] for a in accepted.json()["appointments"]]
    assert resources == ["Chair 1", "Chair 2", "Chair 1", "Chair 1", "Chair 1", "Chair 1"]


def test_the_booking_answer_is_what_reading_the_series_back_gives(clinic: Clinic) -> None:
    """The 201 is built from the rows just written; it must equal GET /series/{id}/ (alternatives included)."""
    open_every_friday(clinic)
    appointment_book(actor=None, patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location,
                     start=ny(dt.date(2026, 10, 30), 9), resource=clinic.chairs[0])  # fmt: skip
    client = clinic.client(clinic.reception)

    sql: list[str] = []

    def record(execute: Any, query: str, *args: Any) -> Any:
        sql.append(query)
        return execute(query, *args)

    with connection.execute_wrapper(record):
        booked = post_series(client, clinic, resource=str(clinic.chairs[0].public_id), accept_alternatives=True)

    assert booked.status_code == 201, booked.json()
    assert booked.json() == client.get(f"/api/v1/series/{booked.json()['id']}/").json()
    assert [a["resource_name"] for a in booked.json()["appointments"]][2] == "Chair 2"  # the alternative, in order
    written = next(i for i, q in enumerate(sql) if 'INSERT INTO "scheduling_appointment"' in q)
    assert not [q for q in sql[written:] if q.startswith("SELECT") and '"scheduling_appointment"' in q]
    # One INSERT per table: the series, its visits, their staff, the change record, every reminder.
    writes = [q.split("(")[0].strip() for q in sql if q.startswith("INSERT INTO") and "scheduling_" in q]
    assert writes == [
        f'INSERT INTO "scheduling_{table}"'
        for table in ("series", "appointment", "appointmentstaff", "serieschange", "reminder")
    ]


def test_a_closed_alternate_friday_gets_the_same_time_on_the_nearest_day_that_keeps_the_protocol(
    clinic: Clinic,
) -> None:
    # Friday 2026-10-30 is a closed alternate Friday. Without a gap rule, Thursday at 09:00 is offered.
    response = post_series(clinic.client(clinic.reception), clinic, min_gap_hours=0)

    assert response.status_code == 409
    body = response.json()
    assert [(c["index"], c["code"]) for c in body["conflicts"]] == [(2, "outside_opening_hours")]
    assert [(a["index"], a["start"]) for a in body["alternatives"]] == [(2, "2026-10-29T09:00:00-04:00")]


def test_when_no_alternative_keeps_the_protocol_the_409_says_so(clinic: Clinic) -> None:
    # With 48 hours between visits and Wednesday and Monday fixed around it, no time near the closed
    # Friday keeps the gap: nothing is offered for it and nothing is booked.
    response = post_series(clinic.client(clinic.reception), clinic)

    assert response.status_code == 409
    assert response.json()["alternatives"] == []
    assert "No alternative keeps the protocol" in response.json()["detail"]
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"count": 0}, "count", "at least one visit"),
        ({"count": 6, "within_days": 7, "min_gap_hours": 48}, "count", "cannot fit"),
        ({"weekdays": [5, 6]}, "weekdays", "closed on every day asked for (Saturday, Sunday)"),
    ],
)
def test_bad_protocols_are_422_with_a_message_a_receptionist_understands(
    clinic: Clinic, fields: dict[str, Any], field: str, words: str
) -> None:
    response = post_series(clinic.client(clinic.reception), clinic, **fields)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_protocol"
    assert words in response.json()["detail"]
    assert field in response.json()["errors"]
    assert Appointment.objects.count() == 0


def test_a_first_visit_in_the_past_is_refused(clinic: Clinic) -> None:
    response = post_series(clinic.client(clinic.reception), clinic, first_date="2026-09-01")

    assert response.status_code == 422
    assert "already passed" in response.json()["detail"]


def test_a_series_by_template_uses_the_templates_rules(clinic: Clinic) -> None:
    open_every_friday(clinic)
    template = SeriesTemplate.objects.create(
        group=clinic.group, location=clinic.location, name="Induction: 6 in 21 days", service_type=clinic.infusion,
        count=6, weekdays=[0, 2, 4], local_time=dt.time(9), min_gap_hours=48, max_per_week=3, within_days=21,
    )  # fmt: skip
    payload = {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "template": str(template.public_id), "first_date": "2026-10-26",
    }  # fmt: skip

    response = clinic.client(clinic.reception).post("/api/v1/series/", payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["template"] == str(template.public_id)
    assert len(response.json()["appointments"]) == 6


def test_series_templates_are_managed_by_admins(clinic: Clinic) -> None:
    payload = {"name": "Maintenance booster", "service_type": str(clinic.infusion.public_id), "count": 1,
               "local_time": "10:00"}  # fmt: skip

    created = clinic.client(clinic.admin).post("/api/v1/series-templates/", payload, format="json")
    refused = clinic.client(clinic.reception).post("/api/v1/series-templates/", payload, format="json")

    assert created.status_code == 201, created.json()
    assert refused.status_code == 403
    assert clinic.client(clinic.reception).get("/api/v1/series-templates/").json()["count"] == 1


# --- changing a series ------------------------------------------------------------------------


@pytest.fixture
def booked(clinic: Clinic) -> dict[str, Any]:
    open_every_friday(clinic)
    response = post_series(clinic.client(clinic.reception), clinic)
    assert response.status_code == 201
    return response.json()


def test_moving_a_visit_too_close_to_its_neighbour_breaks_the_protocol(clinic: Clinic, booked: dict[str, Any]) -> None:
    second = booked["appointments"][1]["id"]

    response = clinic.client(clinic.reception).patch(
        f"/api/v1/appointments/{second}/", {"start": "2026-10-27T09:00:00-04:00"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "protocol_violation"
    assert "less than 48 hours apart" in response.json()["detail"]


def test_moving_a_visit_within_the_protocol_records_one_change(clinic: Clinic, booked: dict[str, Any]) -> None:
    last = booked["appointments"][5]["id"]

    response = clinic.client(clinic.reception).patch(
        f"/api/v1/appointments/{last}/", {"start": "2026-11-06T11:00:00-05:00"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert list(SeriesChange.objects.values_list("kind", flat=True)) == ["booked", "moved"]


def test_cancelling_one_visit_records_one_change(clinic: Clinic, booked: dict[str, Any]) -> None:
    third = booked["appointments"][2]["id"]

    clinic.client(clinic.reception).post(f"/api/v1/appointments/{third}/cancel/", {"reason": "Travel"})

    assert list(SeriesChange.objects.values_list("kind", flat=True)) == ["booked", "cancelled"]
    detail = clinic.client(clinic.reception).get(f"/api/v1/series/{booked['id']}/").json()
    assert detail["status"] == "active"
    assert [a["status"] for a in detail["appointments"]].count("cancelled") == 1


def test_cancelling_the_rest_of_a_series_is_one_change_for_one_message(clinic: Clinic, booked: dict[str, Any]) -> None:
    client = clinic.client(clinic.reception)

    response = client.post(
        f"/api/v1/series/{booked['id']}/cancel/", {"reason": "Moving away", "from": "2026-11-01T00:00:00-04:00"}
    )

    assert response.status_code == 200, response.json()
    statuses = [a["status"] for a in response.json()["appointments"]]
    assert statuses == ["scheduled", "scheduled", "scheduled", "cancelled", "cancelled", "cancelled"]
    change = SeriesChange.objects.get(kind="cancelled")
    assert len(change.appointment_ids) == 3

    everything = client.post(f"/api/v1/series/{booked['id']}/cancel/", {"reason": "Stopping treatment"})
    assert everything.json()["status"] == "cancelled"
    assert SeriesChange.objects.filter(kind="cancelled").count() == 2


def test_a_series_is_extended_with_maintenance_visits(clinic: Clinic, booked: dict[str, Any]) -> None:
    response = clinic.client(clinic.reception).post(
        f"/api/v1/series/{booked['id']}/extend/", {"count": 2, "first_date": "2026-11-16"}, format="json"
    )

    assert response.status_code == 200, response.json()
    starts = local_starts(response.json())
    assert starts[-2:] == ["2026-11-16T09:00:00-05:00", "2026-11-18T09:00:00-05:00"]
    assert response.json()["count"] == 8
    assert SeriesChange.objects.filter(kind="extended").count() == 1


def test_booking_and_extending_write_every_row_the_change_needs(clinic: Clinic) -> None:
    """Visits, their staff, visit reminders, the change record listing the visits and its two summaries."""
    clinic.infusion.reminder_offsets_hours, clinic.infusion.reminder_channels = [24, 2], []
    clinic.infusion.save(update_fields=["reminder_offsets_hours", "reminder_channels"])
    open_every_friday(clinic)
    client = clinic.client(clinic.reception)
    booked = post_series(client, clinic).json()

    extended = client.post(f"/api/v1/series/{booked['id']}/extend/", {"count": 2, "first_date": "2026-11-16"})

    assert extended.status_code == 200, extended.json()
    series = Series.objects.get(public_id=booked["id"])
    visits = list(series.appointments.order_by("start"))
    assert [str(visit.public_id) for visit in visits] == [a["id"] for a in extended.json()["appointments"]]
    changes = list(SeriesChange.objects.filter(series=series).order_by("id"))
    assert [(change.kind, change.appointment_ids) for change in changes] == [
        ("booked", [visit.pk for visit in visits[:6]]),
        ("extended", [visit.pk for visit in visits[6:]]),
    ]
    assert all(change.actor == clinic.reception and change.created_at == NOW for change in changes)
    for change in changes:
        summaries = Reminder.objects.filter(series_change=change)
        assert sorted(summaries.values_list("channel", "patient", "status", "due_at")) == [
            ("email", clinic.patient.pk, "pending", NOW),
            ("sms", clinic.patient.pk, "pending", NOW),
        ]
    for visit in visits:
        assert visit.created_by == clinic.reception
        assert (visit.created_at, visit.updated_at) == (NOW, NOW)
        assert visit.end - visit.start == dt.timedelta(minutes=clinic.infusion.duration_minutes)
        staff = list(visit.staff_assignments.values_list("start", "end", "is_blocking"))
        assert staff == [(visit.start, visit.end, True)]
        due = sorted(Reminder.objects.filter(appointment=visit).values_list("offset_hours", "channel", "due_at"))
        assert due == [(offset, channel, visit.start - dt.timedelta(hours=offset))
                       for offset in (2, 24) for channel in ("email", "sms")]  # fmt: skip


def test_a_patient_sees_their_own_series_and_cannot_book_one(clinic: Clinic, booked: dict[str, Any]) -> None:
    user = UserFactory(roles=[Role.PATIENT])
    clinic.patient.user = user
    clinic.patient.save()
    client = clinic.client(user)

    assert client.get(f"/api/v1/series/{booked['id']}/").status_code == 200
    assert post_series(client, clinic).status_code == 403
    other = UserFactory(roles=[Role.PATIENT])
    assert clinic.client(other).get(f"/api/v1/series/{booked['id']}/").status_code == 404


def test_accountants_cannot_book_a_series(clinic: Clinic) -> None:
    assert post_series(clinic.client(clinic.accountant), clinic).status_code == 403


# --- idempotency ---------------------------------------------------------------------------------


def test_a_replayed_request_returns_the_first_answer_and_books_nothing_twice(clinic: Clinic) -> None:
    open_every_friday(clinic)
    client = clinic.client(clinic.reception)
    headers = {"Idempotency-Key": "series-2026-10-26-alex"}

    first = post_series(client, clinic, headers=headers)
    replay = post_series(client, clinic, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert first.json() == replay.json()
    assert Series.objects.count() == 1
    assert Appointment.objects.count() == 6


def test_a_replayed_conflict_returns_the_same_409(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    headers = {"Idempotency-Key": "k-409"}

    first = post_series(client, clinic, headers=headers, min_gap_hours=0)
    replay = post_series(client, clinic, headers=headers, min_gap_hours=0)

    assert first.status_code == replay.status_code == 409
    assert replay["Content-Type"] == "application/problem+json"
    assert first.json() == replay.json()


def test_a_key_reused_for_a_different_request_is_refused(clinic: Clinic) -> None:
    open_every_friday(clinic)
    client = clinic.client(clinic.reception)
    post_series(client, clinic, headers={"Idempotency-Key": "k1"})

    response = post_series(client, clinic, headers={"Idempotency-Key": "k1"}, count=5)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_appointment_booking_honours_idempotency_keys_too(clinic: Clinic) -> None:
    client = clinic.client(clinic.reception)
    payload = {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": ny(dt.date(2026, 10, 5), 9).isoformat(),
    }  # fmt: skip

    first = client.post("/api/v1/appointments/", payload, format="json", headers={"Idempotency-Key": "a1"})
    replay = client.post("/api/v1/appointments/", payload, format="json", headers={"Idempotency-Key": "a1"})

    assert first.status_code == replay.status_code == 201
    assert first.json()["id"] == replay.json()["id"]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("action", ["extend", "cancel"])
def test_changing_a_series_row_locks_the_series_alone_not_its_location_or_patient(
    clinic: Clinic, booked: dict[str, Any], action: str
) -> None:
    """A location row lock would make every setup change (its triggers update the location) wait on it."""
    body: dict[str, Any] = {"count": 1} if action == "extend" else {"reason": "Moving away"}
    locks: list[str] = []

    def record(execute: Any, query: str, *args: Any) -> Any:
        if "FOR UPDATE" in query:
            locks.append(query[query.index("FOR UPDATE") :])
        return execute(query, *args)

    with connection.execute_wrapper(record):
        response = clinic.client(clinic.reception).post(f"/api/v1/series/{booked['id']}/{action}/", body)

    assert response.status_code == 200, response.json()
    assert locks
    assert all(lock.startswith('FOR UPDATE OF "scheduling_') for lock in locks), locks
    assert not [lock for lock in locks if "scheduling_location" in lock or "scheduling_patient" in lock]


def test_series_and_visits_render_as_their_declared_fields_say(clinic: Clinic) -> None:
    """The answers are built directly for speed; they must equal DRF's field-by-field rendering (the schema)."""
    from django.db.models import Prefetch
    from rest_framework import serializers

    from scheduling.api.appointments import AppointmentOutput
    from scheduling.api.series import SeriesOutput

    open_every_friday(clinic)
    template = SeriesTemplate.objects.create(group=clinic.group, name="Induction", service_type=clinic.infusion,
                                             count=6, weekdays=[0, 2, 4], min_gap_hours=48)  # fmt: skip
    client = clinic.client(clinic.reception)
    booked = post_series(client, clinic, template=str(template.public_id)).json()
    third = booked["appointments"][2]["id"]
    assert client.post(f"/api/v1/appointments/{third}/cancel/", {"reason": "Travel"}).status_code == 200
    series = (
        Series.objects.select_related("patient", "service_type", "location", "template")
        .prefetch_related(Prefetch("appointments", queryset=Appointment.objects.order_by("start")))
        .get(public_id=booked["id"])
    )

    declared = serializers.Serializer.to_representation(SeriesOutput(), series)

    assert SeriesOutput(series).data == declared
    assert declared["template"] == str(template.public_id)
    for visit in series.appointments.all():
        assert AppointmentOutput(visit).data == serializers.Serializer.to_representation(AppointmentOutput(), visit)
    assert [a["cancelled_at"] is not None for a in declared["appointments"]] == [
        False,
        False,
        True,
        False,
        False,
        False,
    ]


def _open_sunday_nights(clinic: Clinic) -> None:
    """Sundays 01:00-06:00 (New York), nurses on shift: a clinic open across the spring-forward change."""
    OpeningRule.objects.create(location=clinic.location, weekday=6, opens=dt.time(1), closes=dt.time(6))
    for nurse in (clinic.nurse, clinic.nurse2):
        Shift.objects.create(staff=nurse, location=clinic.location, weekday=6, opens=dt.time(1), closes=dt.time(6))


def test_a_visit_in_the_spring_forward_gap_is_a_conflict_with_an_alternative_not_a_dropped_day(
    clinic: Clinic,
) -> None:
    # given Sundays at 02:30, and 02:30 on Sunday 2027-03-14 does not exist in New York
    _open_sunday_nights(clinic)
    client = clinic.client(clinic.reception)
    sundays: dict[str, Any] = {"first_date": "2027-03-07", "count": 3, "time": "02:30", "weekdays": [6],
                               "min_gap_hours": 0, "max_per_week": None, "within_days": None}  # fmt: skip

    # when the series is asked for
    refused = post_series(client, clinic, **sundays)

    # then the second visit is the conflict, with the nearest real time that day as its alternative
    assert refused.status_code == 409, refused.json()
    body = refused.json()
    assert [(c["index"], c["code"]) for c in body["conflicts"]] == [(1, "nonexistent_local_time")]
    assert "02:30 does not exist on 2027-03-14" in body["conflicts"][0]["reason"]
    assert [(a["index"], a["start"]) for a in body["alternatives"]] == [(1, "2027-03-14T03:00:00-04:00")]
    assert not Appointment.objects.exists()

    booked = post_series(client, clinic, **sundays, accept_alternatives=True)

    assert booked.status_code == 201, booked.json()
    assert local_starts(booked.json()) == [
        "2027-03-07T02:30:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-21T02:30:00-04:00",
    ]  # fmt: skip


def test_a_series_booking_runs_twelve_statements_from_request_to_answer(clinic: Clinic) -> None:
    """Token, patient, service type, location, lock, clearance, busy time, then one INSERT per table: series,
    visits, staff, change record, reminders. The location's setup is in memory (read once per version)."""
    open_every_friday(clinic)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(clinic.reception).key}")
    assert post_series(client, clinic, patient=str(clinic.patient2.public_id)).status_code == 201  # setup loaded
    booked: Any = None

    def book() -> None:
        nonlocal booked
        booked = post_series(client, clinic, first_date="2026-11-09")

    sql = recorded_while(book)

    assert booked.status_code == 201, booked.json()
    counted = [q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE", *CHAIN_STATEMENTS))]
    assert len(counted) == 12, "\n".join(q[:90] for q in counted)


@pytest.mark.parametrize("first_date", ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"])
def test_a_first_date_outside_the_years_1900_to_2200_is_a_400_for_booking_and_extending(
    clinic: Clinic, first_date: str
) -> None:
    client = clinic.client(clinic.reception)
    booking = post_series(client, clinic, first_date=first_date)
    assert booking.status_code == 400, booking.json()
    assert list(booking.json()["errors"]) == ["first_date"]

    open_every_friday(clinic)
    series = post_series(client, clinic).json()
    extending = client.post(f"/api/v1/series/{series['id']}/extend/", {"count": 1, "first_date": first_date},
                            format="json")  # fmt: skip
    assert extending.status_code == 400, extending.json()
    assert list(extending.json()["errors"]) == ["first_date"]
