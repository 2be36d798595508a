"""Private calendar feeds and the .ics attached to series emails, parsed back with icalendar."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from scheduling.booking.protocol import SeriesProtocol
from scheduling.models import Appointment, Reminder, ReminderKind
from scheduling.services.appointments import appointment_book, appointment_reschedule
from scheduling.services.series import series_cancel
from tests.factories import UserFactory
from tests.scheduling.conftest import Clinic, book_series, make_clinic
from tests.worker.test_content_and_links import DENY
from worker.reminder_content import render

pytestmark = pytest.mark.django_db


def feed_events(url: str) -> list[Any]:
    response = Client().get(url[url.index("/ical/") :])
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def patient_feed(clinic: Clinic) -> str:
    response = clinic.client(clinic.reception).post(f"/api/v1/patients/{clinic.patient.public_id}/calendar-feed/")
    assert response.status_code == 200, response.content
    url: str = response.json()["url"]
    return url


@pytest.mark.parametrize(
    ("zone", "days"),
    [("America/New_York", [dt.date(2026, 10, 29), dt.date(2026, 11, 2)]),  # DST ends 2026-11-01
     ("Australia/Sydney", [dt.date(2026, 10, 1), dt.date(2026, 10, 5)])],  # DST starts 2026-10-04
)  # fmt: skip
def test_the_feed_keeps_local_times_across_a_dst_change(zone: str, days: list[dt.date]) -> None:
    with time_machine.travel(dt.datetime(2026, 9, 20, tzinfo=dt.UTC), tick=False):
        clinic = make_clinic(timezone=zone)
        local = ZoneInfo(zone)
        for day in days:
            start = dt.datetime.combine(day, dt.time(9), tzinfo=local)
            appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=start)  # fmt: skip
        events = feed_events(patient_feed(clinic))
        assert [event.decoded("dtstart") for event in events] == [
            dt.datetime.combine(day, dt.time(9), tzinfo=local) for day in days
        ]
        assert {str(event.decoded("dtstart").tzinfo) for event in events} == {zone}


@pytest.mark.parametrize(
    ("zone", "days"),
    [("America/New_York", [dt.date(2026, 10, 29), dt.date(2026, 12, 30), dt.date(2028, 3, 13)]),
     ("Australia/Sydney", [dt.date(2026, 10, 1), dt.date(2027, 4, 5), dt.date(2028, 1, 3)])],
)  # fmt: skip
def test_the_feeds_own_vtimezone_gives_every_visit_its_offset(zone: str, days: list[dt.date]) -> None:
    """The VTIMEZONE covers the years the visits fall in, no more: read on its own (as a client without the
    IANA database does), it must still give each visit the offset zoneinfo gives it."""
    with time_machine.travel(dt.datetime(2026, 9, 20, tzinfo=dt.UTC), tick=False):
        clinic = make_clinic(timezone=zone)
        for day in days:
            start = dt.datetime.combine(day, dt.time(9), tzinfo=ZoneInfo(zone))
            appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=start)  # fmt: skip
        url = patient_feed(clinic)
        calendar = Calendar.from_ical(Client().get(url[url.index("/ical/") :]).content)
        (vtimezone,) = calendar.timezones
        own_rules = vtimezone.to_tz(lookup_tzid=False)
        starts = [event.decoded("dtstart") for event in calendar.walk("VEVENT")]
        assert len(starts) == len(days)
        assert [start.replace(tzinfo=own_rules).utcoffset() for start in starts] == [
            start.utcoffset() for start in starts
        ]
        assert len({start.utcoffset() for start in starts}) == 2  # both sides of a change are covered
        assert f"from {days[0].year}-01-01 to {days[-1].year + 1}-01-01" in str(vtimezone.get("comment"))


def test_a_rotated_or_revoked_feed_answers_404_and_staff_get_their_own(clinic: Clinic) -> None:
    appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                     start=dt.datetime(2026, 10, 5, 13, tzinfo=dt.UTC))  # fmt: skip
    first = patient_feed(clinic)
    second = patient_feed(clinic)
    assert Client().get(first[first.index("/ical/") :]).status_code == 404
    assert len(feed_events(second)) == 1
    own = UserFactory(roles=["patient"])
    clinic.patient.user = own
    clinic.patient.save()
    revoked = clinic.client(own).delete(f"/api/v1/patients/{clinic.patient.public_id}/calendar-feed/")
    assert revoked.status_code == 204
    assert Client().get(second[second.index("/ical/") :]).status_code == 404
    assert clinic.client(own).post(f"/api/v1/patients/{clinic.patient2.public_id}/calendar-feed/").status_code == 404

    nurse = clinic.nurse
    nurse.user = UserFactory(roles=["clinician"])
    nurse.save()
    clinic.group.members.add(nurse.user)
    mine = clinic.client(nurse.user).get(f"/api/v1/staff/{nurse.public_id}/calendar-feed/")
    assert mine.status_code == 200
    assert clinic.client(nurse.user).get(f"/api/v1/staff/{nurse.public_id}/calendar-feed/").json() == mine.json()
    (event,) = feed_events(mine.json()["url"])
    assert str(event.get("summary")) == "A.E. infusion"
    others = clinic.client(clinic.clinician).get(f"/api/v1/staff/{nurse.public_id}/calendar-feed/")
    assert others.status_code == 403
    assert clinic.client(clinic.admin).post(f"/api/v1/staff/{nurse.public_id}/calendar-feed/").status_code == 200


def test_a_moved_visit_keeps_its_uid_with_a_higher_sequence_and_feeds_name_nothing_clinical(clinic: Clinic) -> None:
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=dt.datetime(2026, 10, 5, 13, tzinfo=dt.UTC))  # fmt: skip
    url = patient_feed(clinic)
    (before,) = feed_events(url)
    appointment_reschedule(actor=None, appointment=visit, start=dt.datetime(2026, 10, 6, 13, tzinfo=dt.UTC))
    (after,) = feed_events(url)
    assert str(after.get("uid")) == str(before.get("uid"))
    assert after.decoded("sequence") == before.decoded("sequence") + 1
    text = Client().get(url[url.index("/ical/") :]).content.decode()
    prose = re.sub(r"^(UID|PRODID|TZID|DTSTART|DTEND|DTSTAMP).*$", "", text, flags=re.MULTILINE)
    assert not DENY.search(prose), prose
    assert "Clinic visit" in text


def test_series_emails_carry_a_request_and_a_cancellation_the_calendar_applies(clinic: Clinic) -> None:
    clinic.patient.email_consent = True
    clinic.patient.save()
    series = book_series(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                         protocol=SeriesProtocol(count=2, first_date=dt.date(2026, 10, 5), local_time=dt.time(10),
                                                 min_gap_hours=24))  # fmt: skip
    booked = render(Reminder.objects.get(kind=ReminderKind.SERIES_SUMMARY, channel="email"))
    ((name, content, mimetype),) = booked.attachments
    calendar = Calendar.from_ical(content)
    assert (name, mimetype, str(calendar.get("method"))) == ("visits.ics", "text/calendar; method=REQUEST", "REQUEST")
    uids = sorted(str(event.get("uid")) for event in calendar.walk("VEVENT"))
    assert len(uids) == 2
    series_cancel(actor=None, series=series, reason="Moving away")
    summary = Reminder.objects.filter(kind=ReminderKind.SERIES_SUMMARY, channel="email").order_by("-id").first()
    assert summary is not None
    ((_name, content, mimetype),) = render(summary).attachments
    cancelled = Calendar.from_ical(content)
    assert (str(cancelled.get("method")), mimetype) == ("CANCEL", "text/calendar; method=CANCEL")
    events = list(cancelled.walk("VEVENT"))
    assert sorted(str(event.get("uid")) for event in events) == uids  # the same events, now cancelled
    assert {str(event.get("status")) for event in events} == {"CANCELLED"}
    assert {event.decoded("sequence") for event in events} == {1}
    assert Appointment.objects.filter(series=series, calendar_sequence=1).count() == 2


def test_a_single_visits_reminder_email_carries_its_event_with_the_current_sequence(clinic: Clinic) -> None:
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=dt.datetime(2026, 10, 5, 13, tzinfo=dt.UTC))  # fmt: skip
    appointment_reschedule(actor=None, appointment=visit, start=dt.datetime(2026, 10, 6, 13, tzinfo=dt.UTC))
    reminder = Reminder.objects.filter(appointment=visit, kind=ReminderKind.VISIT, channel="email",
                                       status="pending").first()  # fmt: skip
    assert reminder is not None
    ((name, content, mimetype),) = render(reminder).attachments
    calendar = Calendar.from_ical(content)
    assert (name, mimetype, str(calendar.get("method"))) == ("visit.ics", "text/calendar; method=REQUEST", "REQUEST")
    (event,) = calendar.walk("VEVENT")
    assert str(event.get("uid")).startswith(f"visit-{visit.public_id}@")
    assert event.decoded("sequence") == 1  # moved once: calendars replace the event they have
    assert event.decoded("dtstart").isoformat() == "2026-10-06T09:00:00-04:00"
    sms = Reminder.objects.filter(appointment=visit, channel="sms").first()
    assert sms is not None
    assert render(sms).attachments == ()
