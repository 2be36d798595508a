"""Minimum-necessary content (a deny-list scan of every template and message) and the patient links."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from backend.models import AuditEvent
from scheduling.booking.protocol import SeriesProtocol
from scheduling.links import make_token, unsubscribe_token
from scheduling.models import Appointment, Reminder, SeriesChange
from scheduling.services.appointments import appointment_book, appointment_reschedule
from scheduling.services.series import series_cancel
from tests.scheduling.conftest import Clinic, book_series, ny
from worker.reminder_content import render

DENY = re.compile(
    r"ketamine|esketamine|spravato|ptsd|post.?traumatic|depress|anxiety|infusion|psychotherap|therapy|"
    r"drug|dose|anesthe|psychiatr|mental|trauma|f43|f32|f33|diagnos|\bkap\b|treatment|j3490|963\d\d|90837",
    re.IGNORECASE,
)
TEMPLATES = Path(__file__).resolve().parents[2] / "worker" / "templates" / "reminders"
MONDAY = dt.date(2026, 10, 5)


def test_no_template_names_a_diagnosis_drug_or_treatment() -> None:
    templates = sorted(TEMPLATES.glob("*"))
    assert templates, "no reminder templates found"
    for template in templates:
        assert not DENY.search(template.read_text()), template.name


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_every_rendered_message_is_free_of_clinical_words(clinic: Clinic, channel: str) -> None:
    from scheduling.booking.protocol import SeriesProtocol

    clinic.location.name = "Evergreen Boston"
    clinic.location.save()
    clinic.infusion.prep_instructions = "No food for 6 hours before your visit. Wear comfortable clothing."
    clinic.infusion.fasting_hours, clinic.infusion.arrive_early_minutes, clinic.infusion.requires_driver = 6, 15, True
    clinic.infusion.save()
    appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                     start=ny(MONDAY, 9))  # fmt: skip
    protocol = SeriesProtocol(count=3, first_date=MONDAY, local_time=dt.time(10), min_gap_hours=48)
    book_series(actor=None, patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location,
                protocol=protocol)  # fmt: skip

    rendered = [render(reminder) for reminder in Reminder.objects.filter(channel=channel)]

    assert len(rendered) >= 4
    for message in rendered:
        for part in (message.subject, message.text, message.html or ""):
            prose = re.sub(r"https?://[^\s\"'<>]+", "", part)  # signed link tokens are random letters, not words
            assert not DENY.search(prose), part
    visit = next(m for m in rendered if "reminder of your visit" in m.text)
    assert "Evergreen Boston" in visit.text
    assert ("/r/confirm/" in visit.text) == (channel == "email")  # by SMS, replying C confirms
    assert "/r/cancel/" in visit.text
    assert "+16175550100" in visit.text
    if channel == "sms":
        # Only keywords the product handles: C confirms, STOP opts out; carriers' other opt-out words never appear.
        assert "Reply C to confirm" in visit.text
        words = set(re.findall(r"\b[A-Z]{2,}\b", re.sub(r"https?://\S+", "", visit.text))) - {"EDT", "EST"}
        assert words == {"STOP"}, words
    if channel == "email":
        assert "Please do not eat after Monday 05 October 2026 at 03:00" in visit.text
        assert "Please arrive by 08:45" in visit.text
        assert "drive you home" in visit.text
    else:
        assert len(visit.text) <= 480  # three SMS segments at most


def test_a_series_change_is_one_summary_message_per_channel(clinic: Clinic) -> None:
    protocol = SeriesProtocol(count=4, first_date=MONDAY, local_time=dt.time(9), min_gap_hours=48)
    series = book_series(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                         protocol=protocol)  # fmt: skip
    series_cancel(actor=None, series=series, reason="Moving away")

    summaries = Reminder.objects.filter(kind="series_summary").order_by("id")
    assert [(r.series_change.kind if r.series_change else None, r.channel) for r in summaries] == [
        ("booked", "email"), ("booked", "sms"), ("cancelled", "email"), ("cancelled", "sms"),
    ]  # fmt: skip
    cancelled = render(summaries[3])
    assert cancelled.text.count("Oct") == 4  # every visit listed in one message
    assert SeriesChange.objects.count() == 2


# --- confirm and cancel links ----------------------------------------------------------------


def _appointment(clinic: Clinic) -> Appointment:
    return appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                            location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip


def test_the_confirm_link_shows_the_visit_and_confirms_only_on_post(clinic: Clinic) -> None:
    appointment = _appointment(clinic)
    url = f"/r/confirm/{make_token(appointment, 'confirm')}/"
    browser = Client()

    page = browser.get(url)
    assert page.status_code == 200
    assert "Monday 05 October 2026 at 09:00" in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"  # opening a link changes nothing

    done = browser.post(url)
    assert done.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_the_cancel_link_applies_the_late_cancellation_rule(clinic: Clinic) -> None:
    appointment = _appointment(clinic)
    url = f"/r/cancel/{make_token(appointment, 'cancel')}/"

    with time_machine.travel(ny(MONDAY, 7), tick=False):
        page = Client().post(url)

    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert appointment.cancelled_late is True
    assert "late-cancellation fee may apply" in page.content.decode()


def test_a_confirm_token_cannot_cancel_and_a_tampered_one_does_nothing(clinic: Clinic) -> None:
    appointment = _appointment(clinic)
    confirm = make_token(appointment, "confirm")

    assert Client().post(f"/r/cancel/{confirm}/").status_code == 400
    assert Client().post(f"/r/confirm/{confirm[:-2]}xx/").status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"


def test_links_expire(clinic: Clinic) -> None:
    appointment = _appointment(clinic)
    token = make_token(appointment, "confirm")

    with time_machine.travel(dt.datetime(2026, 11, 15, tzinfo=dt.UTC), tick=False):
        page = Client().get(f"/r/confirm/{token}/")

    assert page.status_code == 400
    assert "expired" in page.content.decode()


def test_a_patient_in_another_zone_also_sees_the_time_in_their_own(clinic: Clinic) -> None:
    clinic.patient.timezone = "America/Los_Angeles"
    clinic.patient.save()
    appointment = _appointment(clinic)

    message = render(appointment.reminders.get(offset_hours=24, channel="email"))

    assert "Monday 05 October 2026 at 09:00 (America/New_York)" in message.text
    assert "that is Monday 05 October 2026 at 06:00 in your time zone (America/Los_Angeles)" in message.text


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_series_messages_show_a_patient_in_another_zone_their_own_time_too(clinic: Clinic, channel: str) -> None:
    clinic.patient.timezone = "America/Los_Angeles"
    clinic.patient.save()
    protocol = SeriesProtocol(count=2, first_date=MONDAY, local_time=dt.time(9), min_gap_hours=48)
    series = book_series(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                         protocol=protocol)  # fmt: skip
    series_cancel(actor=None, series=series, reason="Moving away")

    booked, cancelled = (render(r) for r in Reminder.objects.filter(kind="series_summary", channel=channel)
                         .order_by("id"))  # fmt: skip

    for message in (booked, cancelled):
        assert "Mon 05 Oct 09:00 EDT (06:00 PDT your time)" in message.text
        assert "Wed 07 Oct 09:00 EDT (06:00 PDT your time)" in message.text


def test_moving_a_visit_ends_its_old_links(clinic: Clinic) -> None:
    appointment = _appointment(clinic)
    old_cancel = make_token(appointment, "cancel")
    moved = appointment_reschedule(actor=clinic.reception, appointment=appointment, start=ny(MONDAY, 13))

    page = Client().post(f"/r/cancel/{old_cancel}/")
    assert page.status_code == 400
    assert "moved since this link was sent" in page.content.decode()
    moved.refresh_from_db()
    assert moved.status == "scheduled"
    assert Client().post(f"/r/cancel/{make_token(moved, 'cancel')}/").status_code == 200  # the new link works


def test_unsubscribe_links_expire_like_the_others(clinic: Clinic) -> None:
    url = f"/r/unsubscribe/{unsubscribe_token(clinic.patient)}/"

    with time_machine.travel(dt.datetime(2026, 11, 15, tzinfo=dt.UTC), tick=False):
        page = Client().post(url)

    assert page.status_code == 400
    assert "expired" in page.content.decode()
    clinic.patient.refresh_from_db()
    assert clinic.patient.email_consent is True


def test_link_actions_are_in_the_audit_trail_refused_ones_too(clinic: Clinic) -> None:
    appointment = _appointment(clinic)
    Client().post(f"/r/confirm/{make_token(appointment, 'confirm')}/")
    Client().post(f"/r/confirm/{make_token(appointment, 'confirm')}/")  # already confirmed: refused
    Client().post(f"/r/unsubscribe/{unsubscribe_token(clinic.patient)}/")

    events = AuditEvent.objects.filter(patient_id=clinic.patient.public_id, details__via="link").order_by("id")
    assert [(event.actor, event.action, event.details.get("refused")) for event in events] == [
        (None, "confirm", None), (None, "confirm", "invalid_transition"), (None, "unsubscribe", None),
    ]  # fmt: skip
    assert events[0].object_id == str(appointment.public_id)
    assert events[0].ip == "127.0.0.1"
