"""Waitlist offers through the reminder outbox: what they say, and when they are not sent."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings as DjangoSettings

from scheduling.models import OfferStatus, Reminder, ReminderKind, ReminderStatus, WaitlistOffer
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_cancel
from scheduling.services.waitlist import EntryFields, slots_offer, waitlist_entry_add
from tests.scheduling.conftest import Clinic, ny
from tests.worker.conftest import Sink
from tests.worker.test_content_and_links import DENY
from worker.reminder_content import render
from worker.reminders import reminder_deliver

MONDAY = dt.date(2026, 10, 5)


def offered(clinic: Clinic) -> WaitlistOffer:
    """Jamie waits for an infusion; Alex's Monday 09:00 visit is cancelled and offered to Jamie."""
    waitlist_entry_add(actor=clinic.reception, patient=clinic.patient2,
                       fields=EntryFields(service_type=clinic.infusion, locations=[clinic.location]))  # fmt: skip
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip
    appointment_cancel(actor=clinic.reception, appointment=visit, reason="Unwell")
    assert slots_offer() == 1
    return WaitlistOffer.objects.get()


def queued(channel: str) -> Reminder:
    row = Reminder.objects.get(kind=ReminderKind.WAITLIST_OFFER, channel=channel)
    Reminder.objects.filter(pk=row.pk).update(status=ReminderStatus.QUEUED)
    return row


def test_an_offer_names_the_clinic_the_time_the_link_and_its_end_and_nothing_clinical(clinic: Clinic) -> None:
    offer = offered(clinic)
    for row in Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER):
        message = render(row)
        prose = re.sub(r"https?://\S+", "", f"{message.subject}\n{message.text}")
        assert not DENY.search(prose), message.text
        assert "/r/offer/" in message.text
        assert "Boston" in message.text
        assert "05 Oct" in message.text
        assert "08:30" in message.text  # open until: 30 minutes after 08:00 New York time
        if row.channel == "sms":
            assert len(message.text) <= 320
    assert offer.entry.patient == clinic.patient2


def test_an_offer_is_emailed_once(clinic: Clinic, smtp_sink: Sink) -> None:
    offered(clinic)
    row = queued("email")
    with CaptureQueriesContext(connection) as delivery:
        assert reminder_deliver(reminder_id=row.pk) == "sent"
    offer_reads = [query for query in delivery.captured_queries if 'FROM "scheduling_waitlistoffer"' in query["sql"]]
    assert len(offer_reads) == 1  # read to decide whether it is still open, and the message is written from it
    assert reminder_deliver(reminder_id=row.pk) == "not-claimed"
    (mail,) = smtp_sink.messages()
    assert "Subject: A visit time has opened at Boston" in mail


def test_an_offer_closed_before_it_is_sent_is_not_sent(clinic: Clinic, smtp_sink: Sink) -> None:
    offered(clinic)
    WaitlistOffer.objects.update(status=OfferStatus.TAKEN)
    row = queued("email")
    assert reminder_deliver(reminder_id=row.pk) == "cancelled"
    assert smtp_sink.messages() == []


def test_an_sms_offer_in_quiet_hours_that_outlast_it_is_skipped_not_deferred(
    clinic: Clinic, settings: DjangoSettings, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    with time_machine.travel(ny(dt.date(2026, 10, 1), 22), tick=False):  # 22:00 in New York: quiet until 08:00
        offered(clinic)
        row = queued("sms")
        assert reminder_deliver(reminder_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert row.last_error == "Quiet hours outlast the offer."
