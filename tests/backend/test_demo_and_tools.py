"""The demo data, the embedded-services module and the SMTP sink."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from backend import embedded
from backend.mailsink import start_sink
from backend.models import ClinicGroup
from backend.pytest_plugin import redis_url_for_worker
from billing.models import FeeScheduleItem
from scheduling.models import Appointment, Location, OpeningRule, Patient, Series, ServiceType
from tests.processes import free_port, wait_for


@pytest.mark.django_db
def test_demo_data_loads_two_zones_alternate_fridays_and_is_idempotent(frozen_now: object) -> None:
    call_command("seed_demo", "--password", "demo-pass-2026")
    call_command("seed_demo", "--password", "demo-pass-2026")

    assert ClinicGroup.objects.count() == 1
    zones = set(Location.objects.values_list("timezone", flat=True))
    assert zones == {"America/New_York", "America/Los_Angeles"}
    friday = OpeningRule.objects.filter(weekday=4).first()
    assert friday is not None
    assert friday.every_n_weeks == 2
    assert OpeningRule.objects.filter(weekday__in=[0, 1, 2, 3]).count() == 8
    first_four = Patient.objects.filter(first_name__in=["Alex", "Jamie", "Taylor", "Morgan"])
    # three single visits and the induction template's six, besides the clinic day (tested below)
    assert Appointment.objects.filter(patient__in=first_four).count() == 3 + 6
    series = Series.objects.get(patient__first_name="Jamie")
    assert (series.count, series.within_days, series.min_gap_hours) == (6, 21, 48)
    assert [a.status for a in series.appointments.order_by("start")][:2] == ["confirmed", "scheduled"]
    patients = list(Patient.objects.all())
    assert len({p.phone for p in patients}) == len({p.email for p in patients}) == len(patients) == 18
    for service in ServiceType.objects.all():  # each one billed as it is priced
        lines = FeeScheduleItem.objects.filter(service_type=service)
        assert lines.exists(), service.code
        assert sum(line.quantity * line.unit_price for line in lines) == service.price, service.code
    from backend.models import User

    assert User.objects.get(username="reception").check_password("demo-pass-2026")
    from billing.models import Invoice, Package

    assert Invoice.objects.get().status == "paid"
    assert Package.objects.count() == 2
    from outcomes.models import MeasureSchedule, SafetyAlert

    alex = Patient.objects.get(first_name="Alex", last_name="Rivera")
    assert alex.referrer is not None
    assert alex.referrer.npi == "1234567893"
    assert [m.total for m in alex.measures.filter(instrument__code="phq-9").order_by("taken_at")] == [19, 13, 7, 4, 11]
    assert MeasureSchedule.objects.filter(template__name__startswith="Induction").count() == 2
    (alert,) = SafetyAlert.objects.all()
    assert alert.patient.first_name == "Taylor"
    assert alert.notified == [f"oncall.{alert.location_id}@demo.clinic.invalid"]
    from scheduling.models import WaitlistEntry

    waiting = {entry.patient.first_name: entry for entry in WaitlistEntry.objects.select_related("patient")}
    assert set(waiting) == {"Taylor", "Jamie"}
    assert waiting["Jamie"].series == series  # mid-induction: she waits for a visit of her series
    assert Location.objects.get(name__endswith="Boston").waitlist_self_join


def test_configured_urls_are_used_as_they_are_and_nothing_starts() -> None:
    env = {"DATABASE_URL": "postgresql://db.example/clinic", "REDIS_URL": "redis://cache.example:6379/0"}

    assert embedded.ensure_services(env) == env


def test_each_xdist_worker_gets_its_own_redis_database() -> None:
    assert redis_url_for_worker("redis://127.0.0.1:6379/0", None) == "redis://127.0.0.1:6379/1"
    assert redis_url_for_worker("redis://127.0.0.1:6379/0", "gw3") == "redis://127.0.0.1:6379/4"


def test_the_smtp_sink_stores_each_message_as_an_eml_file(tmp_path: Path) -> None:
    port = free_port()
    controller = start_sink(tmp_path, port=port)
    try:
        message = EmailMessage()
        message["From"] = "clinic@example.com"
        message["To"] = "patient@example.com"
        message["Subject"] = "Your visit"
        message.set_content("See you Monday at 09:00.")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(message)

        wait_for(lambda: list(tmp_path.glob("*.eml")), timeout=10)
    finally:
        controller.stop()
    stored = next(tmp_path.glob("*.eml")).read_text()
    assert "Subject: Your visit" in stored
    assert "See you Monday at 09:00." in stored


def test_a_local_run_on_another_port_links_to_it_and_takes_a_free_mail_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import devstack

    for name in ("PUBLIC_BASE_URL", "EMAIL_PORT", "TWILIO_AUTH_TOKEN", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "9000")
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # another stack's mail sink on the usual port
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    monkeypatch.setattr(devstack, "MAIL_PORT", taken.getsockname()[1])

    try:
        env = devstack._environment()
    finally:
        taken.close()

    assert env["PUBLIC_BASE_URL"] == "http://127.0.0.1:9000"
    assert env["EMAIL_PORT"] != str(devstack.MAIL_PORT)
    assert env["TWILIO_AUTH_TOKEN"] == devstack.LOCAL_SMS_SECRET
    assert len(env["SECRET_KEY"]) >= 50  # this checkout's own, not a constant from the source
    assert env["SECRET_KEY"] == devstack._environment()["SECRET_KEY"]  # kept under var/ between runs
    assert env["SECRET_KEY"] not in (
        Path(devstack.__file__).read_text() + Path(devstack.__file__).with_name("settings.py").read_text()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("today", ["2026-10-01", "2026-11-30", "2026-12-06"])
def test_the_demo_series_is_booked_whichever_week_it_is_loaded(today: str) -> None:
    """Its second Friday may be a closed alternate Friday: the demo then starts a week later."""
    with time_machine.travel(dt.datetime.fromisoformat(f"{today}T12:00:00+00:00"), tick=False):
        call_command("seed_demo", "--password", "demo-pass-2026")

    series = Series.objects.get(patient__first_name="Jamie")
    assert series.appointments.count() == 6


def _board_statuses(location: Location, day: dt.date) -> list[str]:
    start = dt.datetime.combine(day, dt.time(0), location.zone)
    visits = Appointment.objects.filter(location=location, start__gte=start, start__lt=start + dt.timedelta(days=1))
    return list(visits.order_by("start").values_list("status", flat=True))


@pytest.mark.django_db
def test_the_demo_fills_the_rest_of_today_and_the_next_open_day_like_a_clinic_day() -> None:
    # Thursday 1 October 2026, 08:00 in Boston; Friday the 2nd is a closed alternate Friday
    with time_machine.travel(dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        call_command("seed_demo", "--password", "demo-pass-2026")
    boston = Location.objects.get(name__endswith="Boston")

    today = _board_statuses(boston, dt.date(2026, 10, 1))
    assert {"in_progress", "checked_in", "confirmed", "scheduled", "cancelled"} <= set(today)
    assert Appointment.objects.filter(location=boston, status="cancelled", cancelled_late=True).exists()
    assert _board_statuses(boston, dt.date(2026, 10, 2)) == []  # closed
    monday = dt.date(2026, 10, 5)
    next_day = _board_statuses(boston, monday)
    assert len(next_day) >= 14
    assert {"confirmed", "scheduled"} <= set(next_day)
    services = set(Appointment.objects.filter(location=boston, start__date=monday).values_list("service_type__code",
                                                                                              flat=True))  # fmt: skip
    assert services == {"infusion-40", "kap", "consultation", "integration"}
    kap = Appointment.objects.get(location=boston, service_type__code="kap")
    assert sorted(kap.staff_assignments.values_list("role", flat=True)) == ["physician", "therapist"]
    starting = Series.objects.filter(location=boston, appointments__start__date=monday).distinct()
    assert starting.count() >= 2
    assert all(series.appointments.count() == 6 for series in starting)


@pytest.mark.django_db
def test_the_demo_loaded_after_closing_leaves_today_empty_and_fills_the_next_open_day() -> None:
    with time_machine.travel(dt.datetime(2026, 10, 5, 23, 30, tzinfo=dt.UTC), tick=False):  # Monday 19:30 in Boston
        call_command("seed_demo", "--password", "demo-pass-2026")
    boston = Location.objects.get(name__endswith="Boston")

    assert _board_statuses(boston, dt.date(2026, 10, 5)) == []
    assert len(_board_statuses(boston, dt.date(2026, 10, 6))) >= 12
