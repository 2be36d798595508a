"""The waitlist: freed chairs recorded with their change, offered in ranked rounds, claimed once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from scheduling.booking.protocol import SeriesProtocol
from scheduling.links import offer_link
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    FreedSlot,
    FreedSlotStatus,
    OfferStatus,
    Patient,
    Reminder,
    ReminderKind,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.services.appointments import appointment_book, appointment_reschedule
from scheduling.services.transitions import appointment_cancel
from scheduling.services.waitlist import EntryFields, slots_offer, waitlist_entry_add, waitlist_entry_remove
from tests.factories import ClearanceFactory, PatientFactory, UserFactory
from tests.scheduling.conftest import NOW, Clinic, book_series, ny

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 10, 5)


def waiting(clinic: Clinic, count: int, **fields: object) -> list[Patient]:
    """``count`` cleared patients, each with an entry for infusions at the clinic (created a minute apart)."""
    patients: list[Patient] = []
    for n in range(count):
        patient: Patient = PatientFactory(group=clinic.group, first_name=f"Wait{n}")
        ClearanceFactory(patient=patient)
        with time_machine.travel(NOW - dt.timedelta(days=10) + dt.timedelta(minutes=n), tick=False):
            waitlist_entry_add(actor=clinic.reception, patient=patient,
                               fields=EntryFields(service_type=clinic.infusion, locations=[clinic.location],
                                                  **fields))  # type: ignore[arg-type]  # fmt: skip
        patients.append(patient)
    return patients


def freed_monday_nine(clinic: Clinic) -> FreedSlot:
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip
    appointment_cancel(actor=clinic.reception, appointment=visit, reason="Patient unwell")
    return FreedSlot.objects.get(freed_from=visit)


def freed_at(clinic: Clinic, start: dt.datetime) -> FreedSlot:
    visit = appointment_book(actor=None, patient=clinic.patient2, service_type=clinic.infusion,
                             location=clinic.location, start=start)  # fmt: skip
    appointment_cancel(actor=clinic.reception, appointment=visit, reason="Travel")
    return FreedSlot.objects.get(freed_from=visit)


def token_of(offer: WaitlistOffer) -> str:
    match = re.search(r"/r/offer/([^/]+)/", offer_link(offer))
    assert match is not None
    return match.group(1)


def test_a_cancellation_far_enough_ahead_records_the_freed_chair_with_it(clinic: Clinic) -> None:
    slot = freed_monday_nine(clinic)
    assert (slot.status, slot.reason, slot.start) == (FreedSlotStatus.OPEN, "cancelled", ny(MONDAY, 9))
    assert slot.chair_hours == pytest.approx((clinic.infusion.duration_minutes + clinic.infusion.recovery_minutes) / 60)


def test_a_visit_freed_closer_than_the_notice_limit_is_not_offered(clinic: Clinic) -> None:
    start = NOW + dt.timedelta(hours=2)  # Thursday 08:00 in New York: open
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=start)  # fmt: skip
    appointment_cancel(actor=clinic.reception, appointment=visit, reason="Patient unwell")
    assert not FreedSlot.objects.exists()


def test_a_move_frees_the_old_time(clinic: Clinic) -> None:
    visit = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                             location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip
    appointment_reschedule(actor=clinic.reception, appointment=visit, start=ny(MONDAY, 13))
    slot = FreedSlot.objects.get()
    assert (slot.reason, slot.start) == ("moved", ny(MONDAY, 9))


def test_five_matching_entries_and_three_offers_a_round_offer_the_first_three_once(clinic: Clinic) -> None:
    patients = waiting(clinic, 5)
    slot = freed_monday_nine(clinic)
    assert slots_offer() == 3
    assert slots_offer() == 0  # a round is out: nothing more, nothing twice
    offered = [offer.entry.patient for offer in WaitlistOffer.objects.select_related("entry__patient")]
    assert offered == patients[:3]  # same priority, no series: the longest waiting first
    rows = Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER)
    assert sorted(rows.values_list("channel", flat=True)) == ["email"] * 3 + ["sms"] * 3
    offer = WaitlistOffer.objects.first()
    assert offer is not None
    assert offer.expires_at == NOW + dt.timedelta(minutes=30)
    slot.refresh_from_db()
    assert slot.rounds == 1


def test_ranking_is_priority_then_patients_mid_series_then_waiting_time(clinic: Clinic) -> None:
    first, second, third = waiting(clinic, 3)
    WaitlistEntry.objects.filter(patient=third).update(priority=5)
    series = book_series(
        protocol=SeriesProtocol(count=2, first_date=dt.date(2026, 10, 1), local_time=dt.time(13), weekdays=(3,)),
        actor=None, patient=second, service_type=clinic.infusion, location=clinic.location,
    )  # fmt: skip
    WaitlistEntry.objects.filter(patient=second).update(series=series)
    freed_monday_nine(clinic)
    slots_offer()
    ranked = list(WaitlistOffer.objects.order_by("id").values_list("entry__patient", flat=True))
    assert ranked == [third.pk, second.pk, first.pk]


def test_a_patient_mid_series_is_offered_only_times_that_keep_the_minimum_gap(clinic: Clinic) -> None:
    (patient,) = waiting(clinic, 1)
    series = book_series(
        protocol=SeriesProtocol(count=2, first_date=dt.date(2026, 10, 1), local_time=dt.time(13), min_gap_hours=48,
                                weekdays=(1, 3)),
        actor=None, patient=patient, service_type=clinic.infusion, location=clinic.location,
    )  # fmt: skip
    entry = WaitlistEntry.objects.get(patient=patient)
    entry.series = series
    entry.save()
    next_infusion = ny(dt.date(2026, 10, 6), 13)
    assert list(series.appointments.values_list("start", flat=True)) == [ny(dt.date(2026, 10, 1), 13), next_infusion]

    freed_at(clinic, next_infusion - dt.timedelta(hours=24))
    slots_offer()
    assert not WaitlistOffer.objects.exists()
    assert FreedSlot.objects.get().status == FreedSlotStatus.UNFILLED

    freed_at(clinic, next_infusion + dt.timedelta(hours=72))
    slots_offer()
    offer = WaitlistOffer.objects.get()
    assert offer.entry == entry
    Client().post(f"/r/offer/{token_of(offer)}/")
    booked = Appointment.objects.get(patient=patient, start=next_infusion + dt.timedelta(hours=72))
    assert booked.series == series  # a visit of the series, under its protocol
    series.refresh_from_db()
    assert series.count == 3


def test_an_entry_for_a_patient_mid_series_is_tied_to_that_series(clinic: Clinic) -> None:
    series = book_series(
        protocol=SeriesProtocol(count=2, first_date=dt.date(2026, 10, 6), local_time=dt.time(9), min_gap_hours=48),
        actor=None, patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location,
    )  # fmt: skip
    fields = EntryFields(service_type=clinic.infusion, locations=[clinic.location])
    entry = waitlist_entry_add(actor=clinic.reception, patient=clinic.patient2, fields=fields)
    assert entry.series == series


def test_a_clearance_that_ends_before_the_slot_disqualifies_the_entry(clinic: Clinic) -> None:
    (patient,) = waiting(clinic, 1)
    ClearanceFactory(patient=patient, valid_until=dt.date(2026, 10, 4))
    freed_monday_nine(clinic)
    slots_offer()
    assert not WaitlistOffer.objects.exists()


def test_days_times_and_dates_of_the_entry_decide(clinic: Clinic) -> None:
    waiting(clinic, 1, weekdays=[1])  # Tuesdays only
    waiting(clinic, 1, time_windows=[["13:00", "16:00"]])
    waiting(clinic, 1, earliest_date=dt.date(2026, 10, 6))
    (fits,) = waiting(clinic, 1, weekdays=[0], time_windows=[["08:00", "09:00"]], latest_date=MONDAY)
    freed_monday_nine(clinic)
    slots_offer()
    assert [offer.entry.patient for offer in WaitlistOffer.objects.all()] == [fits]


def test_the_first_claim_books_and_the_others_are_told_it_is_taken(clinic: Clinic) -> None:
    patients = waiting(clinic, 3)
    slot = freed_monday_nine(clinic)
    slots_offer()
    offers = list(WaitlistOffer.objects.order_by("id"))
    client = Client()
    page = client.get(f"/r/offer/{token_of(offers[1])}/")
    assert page.status_code == 200
    assert "Take this time" in page.content.decode()
    assert WaitlistOffer.objects.get(pk=offers[1].pk).status == OfferStatus.OPEN  # GET changes nothing

    won = client.post(f"/r/offer/{token_of(offers[1])}/")
    assert won.status_code == 200
    assert "It is yours" in won.content.decode()
    visit = Appointment.objects.get(patient=patients[1])
    assert (visit.start, visit.status) == (ny(MONDAY, 9), AppointmentStatus.SCHEDULED)
    assert Reminder.objects.filter(appointment=visit, kind=ReminderKind.VISIT).exists()
    entry = WaitlistEntry.objects.get(patient=patients[1])
    assert (entry.status, entry.appointment) == (WaitlistStatus.BOOKED, visit)
    slot.refresh_from_db()
    assert (slot.status, slot.appointment) == (FreedSlotStatus.FILLED, visit)

    lost = client.post(f"/r/offer/{token_of(offers[0])}/")
    assert lost.status_code == 409
    assert "This time has been taken" in lost.content.decode()
    assert WaitlistEntry.objects.get(patient=patients[0]).status == WaitlistStatus.WAITING  # still on the list
    again = client.post(f"/r/offer/{token_of(offers[1])}/")
    assert again.status_code == 200
    assert Appointment.objects.filter(start=ny(MONDAY, 9)).exclude(status=AppointmentStatus.CANCELLED).count() == 1


def test_an_expired_offer_changes_nothing_and_the_next_round_goes_to_the_next_entries(clinic: Clinic) -> None:
    patients = waiting(clinic, 4)
    clinic.location.waitlist_offer_count = 2
    clinic.location.save()
    freed_monday_nine(clinic)
    slots_offer()
    first = WaitlistOffer.objects.order_by("id").first()
    assert first is not None
    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        response = Client().post(f"/r/offer/{token_of(first)}/")
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert not Appointment.objects.filter(patient=patients[0]).exists()
        assert slots_offer() == 2
    second_round = WaitlistOffer.objects.filter(status=OfferStatus.OPEN).values_list("entry__patient", flat=True)
    assert sorted(second_round) == sorted(p.pk for p in patients[2:])
    with time_machine.travel(NOW + dt.timedelta(minutes=62), tick=False):
        slots_offer()
    slot = FreedSlot.objects.get()
    assert (slot.status, slot.outcome) == (FreedSlotStatus.UNFILLED, "No taker among the matching entries.")


def test_an_offer_opened_by_another_signed_in_patient_changes_nothing(clinic: Clinic) -> None:
    (patient,) = waiting(clinic, 1)
    freed_monday_nine(clinic)
    slots_offer()
    offer = WaitlistOffer.objects.get()
    intruder = UserFactory(roles=["patient"])
    clinic.patient2.user = intruder
    clinic.patient2.save()
    client = Client()
    client.force_login(intruder)
    response = client.post(f"/r/offer/{token_of(offer)}/")
    assert response.status_code == 403
    assert "another patient" in response.content.decode()
    assert WaitlistOffer.objects.get().status == OfferStatus.OPEN
    assert not Appointment.objects.filter(patient__in=[patient, clinic.patient2]).exists()


def test_a_tampered_link_is_refused(clinic: Clinic) -> None:
    response = Client().get("/r/offer/not-a-token/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_a_chair_booked_at_the_desk_meanwhile_closes_the_slot_as_gone(clinic: Clinic) -> None:
    waiting(clinic, 1)
    freed_monday_nine(clinic)
    clinic.location.resources.exclude(pk=clinic.chairs[0].pk).update(is_active=False)
    appointment_book(actor=None, patient=clinic.patient2, service_type=clinic.infusion, location=clinic.location,
                     start=ny(MONDAY, 9))  # fmt: skip
    slots_offer()
    assert FreedSlot.objects.get().status == FreedSlotStatus.GONE
    assert not WaitlistOffer.objects.exists()


def test_removing_an_entry_closes_its_offers(clinic: Clinic) -> None:
    (patient,) = waiting(clinic, 1)
    freed_monday_nine(clinic)
    slots_offer()
    entry = WaitlistEntry.objects.get(patient=patient)
    waitlist_entry_remove(actor=clinic.reception, entry=entry)
    offer = WaitlistOffer.objects.get()
    assert offer.status == OfferStatus.EXPIRED
    response = Client().post(f"/r/offer/{token_of(offer)}/")
    assert response.status_code == 410
    assert not Appointment.objects.filter(patient=patient).exists()


def test_an_entry_offered_two_times_gets_one_visit_and_its_other_offer_closes(clinic: Clinic) -> None:
    (patient,) = waiting(clinic, 1)
    freed_monday_nine(clinic)
    freed_at(clinic, ny(MONDAY, 13))
    slots_offer()
    first, second = WaitlistOffer.objects.order_by("slot__start")
    assert first.entry == second.entry  # one entry, offered both freed times

    assert Client().post(f"/r/offer/{token_of(first)}/").status_code == 200
    again = Client().post(f"/r/offer/{token_of(second)}/")
    assert again.status_code == 410  # its other offer closed when the first visit was taken
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.BOOKED
