"""A freed chair offered to the waitlist with real workers, two dispatchers and a real SMTP server: three
offers go out once each, and twenty patients' clicks at once on those links book the chair exactly once."""

from __future__ import annotations

import datetime as dt
import email
import re
import threading
from collections import Counter
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from pytest_django import Settings as DjangoSettings

from scheduling.models import (
    Appointment,
    AppointmentStatus,
    FreedSlot,
    FreedSlotStatus,
    OfferStatus,
    Reminder,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    WaitlistOffer,
)
from scheduling.services.appointments import appointment_book
from scheduling.services.transitions import appointment_cancel
from scheduling.services.waitlist import EntryFields, slots_offer, waitlist_entry_add
from tests.factories import ClearanceFactory, PatientFactory
from tests.integration.test_booking_concurrency import overlapping_active_pairs
from tests.integration.test_reminder_delivery import (  # noqa: F401 - fixtures
    Dispatchers,
    outbox_settings,
    sink_dir,
    stored_message_ids,
    worker_for,
)
from tests.processes import RedisServer, wait_for
from tests.scheduling.conftest import make_clinic, ny

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CLAIMS = 20


def next_monday() -> dt.date:
    """A Monday at least two days ahead (the worker runs on the real clock; the test clinic opens on Mondays)."""
    today = timezone.now().date() + dt.timedelta(days=2)
    return today + dt.timedelta(days=(7 - today.weekday()) % 7)


def offer_tokens(mail: Path) -> set[str]:
    tokens = set()
    for path in mail.glob("*.eml"):
        message = email.message_from_string(path.read_text())
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                body = payload.decode()
                tokens.update(re.findall(r"/r/offer/([^/\s]+)/", body))
    return tokens


def run_at_once(work: list[str]) -> list[tuple[str, int]]:
    """POST each link of ``work`` from its own thread and connection, released together."""
    barrier = threading.Barrier(len(work))
    outcomes: list[tuple[str, int]] = []
    lock = threading.Lock()

    def target(token: str) -> None:
        try:
            barrier.wait()
            status = Client().post(f"/r/offer/{token}/").status_code
        finally:
            connections.close_all()
        with lock:
            outcomes.append((token, status))

    threads = [threading.Thread(target=target, args=(token,)) for token in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_three_offers_go_out_once_each_and_twenty_claims_at_once_book_the_chair_once(
    outbox_settings: DjangoSettings,  # noqa: F811
    private_redis: RedisServer,
    sink_dir: tuple[Path, int],  # noqa: F811
    tmp_path: Path,
) -> None:
    mail, port = sink_dir
    clinic = make_clinic()
    for n in range(5):
        patient = PatientFactory(group=clinic.group, first_name=f"Wait{n}", sms_consent=False)
        ClearanceFactory(patient=patient)
        waitlist_entry_add(actor=clinic.reception, patient=patient,
                           fields=EntryFields(service_type=clinic.infusion, locations=[clinic.location]))  # fmt: skip
    start = ny(next_monday(), 9)
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=start)  # fmt: skip
    appointment_cancel(actor=clinic.reception, appointment=visit, reason="Patient unwell")

    sweeps: list[int] = []  # two sweeps at once, as two beat processes would run them

    def sweep() -> None:
        try:
            sweeps.append(slots_offer())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(sweeps) == [0, 3]

    emails = Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER, channel=ReminderChannel.EMAIL)
    assert emails.count() == 3
    workers = [worker_for(private_redis, port, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        with Dispatchers(private_redis.url, count=2):
            wait_for(lambda: not emails.exclude(status=ReminderStatus.SENT).exists(), timeout=90)
    finally:
        for worker in workers:
            worker.stop()
    assert sorted(stored_message_ids(mail)) == sorted(f"<{row.public_id}@clinic.invalid>" for row in emails)
    assert not Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER, status=ReminderStatus.SENT,
                                       channel=ReminderChannel.SMS).exists()  # no SMS consent  # fmt: skip

    tokens = sorted(offer_tokens(mail))
    assert len(tokens) == 3
    outcomes = run_at_once([tokens[n % 3] for n in range(CLAIMS)])

    booked = Appointment.objects.filter(start=start).exclude(status=AppointmentStatus.CANCELLED)
    assert booked.count() == 1
    winner = WaitlistOffer.objects.get(status=OfferStatus.CLAIMED)
    assert winner.entry.appointment == booked.get()
    assert Counter(offer.status for offer in WaitlistOffer.objects.all()) == Counter(
        {OfferStatus.CLAIMED: 1, OfferStatus.TAKEN: 2}
    )
    by_status = Counter(status for _token, status in outcomes)
    assert by_status[200] == sum(1 for n in range(CLAIMS) if n % 3 == tokens.index(_token_of(outcomes, 200)))
    assert by_status[200] + by_status[409] == CLAIMS  # the others see "this time has been taken"
    assert FreedSlot.objects.get().status == FreedSlotStatus.FILLED
    assert overlapping_active_pairs("resource_id") == 0
    assert overlapping_active_pairs("patient_id") == 0


def _token_of(outcomes: list[tuple[str, int]], status: int) -> str:
    """The one link whose clicks succeeded (the winner's: a second click on it shows the same booking)."""
    (token,) = {token for token, answer in outcomes if answer == status}
    return token
