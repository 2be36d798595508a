"""The waitlist: entries, the offers of freed visits, and claims.

- **Entries** say what a patient would take: the service, one or more locations, weekdays, local
  start-time windows and dates. A patient in a series waits for a visit of that series: anything offered
  keeps its protocol (gap, per week, window) with the patient's other visits.
- **Offers**: a chair freed far enough ahead is recorded with the change that frees it
  (``services/freed_slots.py``). ``slots_offer`` (the worker's sweep, every 30 s) offers each open slot to
  the first ``waitlist_offer_count`` matching entries at once, ranked by priority, then patients mid-series,
  then waiting time. Each offer is a ``waitlist_offer`` row of the reminder outbox per channel (consent and
  quiet hours are the dispatcher's), with a signed link that expires after ``waitlist_offer_minutes``.
  When a round's offers have all expired, the next round goes to the next entries, until the slot is
  closer than the notice limit or nobody matches: then it is logged as unfilled.
- **Claims**: the first patient to claim books the visit through ``appointment_book``, like any booking,
  under the slot's row lock; the others are told the time has been taken and stay on the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from backend.errors import ApplicationError
from backend.models import User
from backend.transactions import change_transaction
from scheduling.booking.calendar import LocationCalendar
from scheduling.errors import InvalidBookingRequest, NotCleared
from scheduling.models import (
    AppointmentStatus,
    FreedSlot,
    FreedSlotStatus,
    Location,
    OfferStatus,
    Patient,
    Reminder,
    ReminderChannel,
    ReminderKind,
    Series,
    ServiceType,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.services.appointments import appointment_book, series_protocol_problems
from scheduling.services.clearance import ensure_cleared

SWEEP_BATCH = 50  # open slots looked at per sweep

# --- entries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFields:
    """What an entry asks for: the API's and the console's forms both give these."""

    service_type: ServiceType
    locations: Sequence[Location]
    series: Series | None = None
    weekdays: Sequence[int] = ()
    time_windows: Sequence[Sequence[str]] = ()
    earliest_date: date | None = None
    latest_date: date | None = None
    priority: int = 0
    note: str = ""


def _validate(patient: Patient, fields: EntryFields) -> Series | None:
    """Refuse what cannot match anything; the series a patient mid-series waits for."""
    errors: dict[str, list[str]] = {}
    if fields.service_type.group_id != patient.group_id:
        errors["service_type"] = ["Not a service of the patient's clinic."]
    if not fields.locations:
        errors["locations"] = ["Choose at least one location."]
    elif any(location.group_id != patient.group_id for location in fields.locations):
        errors["locations"] = ["Choose locations of the patient's clinic."]
    if fields.earliest_date and fields.latest_date and fields.earliest_date > fields.latest_date:
        errors["latest_date"] = ["Must be on or after the earliest date."]
    series = fields.series or _current_series(patient, fields.service_type)
    if series is not None and (series.patient_id != patient.pk or series.cancelled_at is not None):
        errors["series"] = ["Not an active series of this patient."]
    elif series is not None and series.location_id not in {location.pk for location in fields.locations}:
        errors["locations"] = ["A series' visits are at its own location: include it."]
    if errors:
        raise InvalidBookingRequest(next(iter(errors.values()))[0], errors=errors)
    return series


def _current_series(patient: Patient, service_type: ServiceType) -> Series | None:
    """The patient's live series of this service with visits still ahead: what they are mid-way through."""
    return (
        Series.objects.filter(patient=patient, service_type=service_type, cancelled_at__isnull=True)
        .filter(
            appointments__start__gt=timezone.now(),
            appointments__status__in=(AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED),
        )
        .order_by("-created_at")
        .first()
    )


def _assign(entry: WaitlistEntry, fields: EntryFields, series: Series | None) -> None:
    entry.service_type = fields.service_type
    entry.series = series
    entry.weekdays = sorted(set(fields.weekdays))
    entry.time_windows = [list(window) for window in fields.time_windows]
    entry.earliest_date, entry.latest_date = fields.earliest_date, fields.latest_date
    entry.priority, entry.note = fields.priority, fields.note


@change_transaction()
def waitlist_entry_add(*, actor: User | None, patient: Patient, fields: EntryFields) -> WaitlistEntry:
    series = _validate(patient, fields)
    entry = WaitlistEntry(patient=patient, created_by=actor)
    _assign(entry, fields, series)
    entry.save()
    entry.locations.set(fields.locations)
    return entry


@change_transaction()
def waitlist_entry_change(*, actor: User | None, entry: WaitlistEntry, fields: EntryFields) -> WaitlistEntry:
    entry = WaitlistEntry.objects.select_for_update().select_related("patient").get(pk=entry.pk)
    if entry.status != WaitlistStatus.WAITING:
        raise InvalidBookingRequest(f"This entry is {entry.get_status_display().lower()}; add a new one.")
    _assign(entry, fields, _validate(entry.patient, fields))
    entry.save()
    entry.locations.set(fields.locations)
    return entry


@change_transaction()
def waitlist_entry_remove(*, actor: User | None, entry: WaitlistEntry) -> WaitlistEntry:
    """Take the patient off the list; offers in flight close (their links then say so)."""
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == WaitlistStatus.WAITING:
        entry.status = WaitlistStatus.REMOVED
        entry.save(update_fields=["status", "updated_at"])
        entry.offers.filter(status=OfferStatus.OPEN).update(
            status=OfferStatus.EXPIRED, answered_at=timezone.now(), detail="Removed from the waitlist."
        )
    return entry


# --- matching -------------------------------------------------------------------------------


def wants(entry: WaitlistEntry, slot: FreedSlot, zone: Any) -> bool:
    """Does the slot fall on a day, a time and a date the entry accepts? (Its own fields only.)"""
    local = slot.start.astimezone(zone)
    if entry.weekdays and local.weekday() not in entry.weekdays:
        return False
    if entry.earliest_date and local.date() < entry.earliest_date:
        return False
    if entry.latest_date and local.date() > entry.latest_date:
        return False
    wall = local.time().replace(tzinfo=None)
    return not entry.time_windows or any(
        time.fromisoformat(start) <= wall <= time.fromisoformat(end) for start, end in entry.time_windows
    )


def _reachable(patient: Patient) -> bool:
    return bool((patient.email_consent and patient.email) or (patient.sms_consent and patient.phone))


def _qualifies(entry: WaitlistEntry, slot: FreedSlot, calendar: LocationCalendar) -> bool:
    """Would booking the slot for this entry's patient pass every booking rule?"""
    patient = entry.patient
    if not calendar.load_patient(patient.pk).is_free(slot.start, slot.hold_until):
        return False
    try:
        ensure_cleared(patient, slot.service_type, slot.start, slot.location)  # a clearance must cover the day
    except NotCleared:
        return False
    if entry.series is None:
        return True
    if entry.series.cancelled_at is not None or entry.series.location_id != slot.location_id:
        return False
    return not series_protocol_problems(entry.series, slot.start, window=True)


def _ranked_candidates(slot: FreedSlot, calendar: LocationCalendar, count: int) -> list[WaitlistEntry]:
    """The first ``count`` entries that match the slot and were not offered it: priority, mid-series, waiting."""
    offered = slot.offers.values("entry_id")
    entries = (
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING, service_type_id=slot.service_type_id, locations=slot.location_id
        )
        .exclude(pk__in=offered)
        .exclude(patient_id=slot.freed_from.patient_id)  # who just gave it up
        .select_related("patient", "series__location")
        .order_by("-priority", ExpressionWrapper(Q(series__isnull=True), BooleanField()), "created_at", "id")
    )
    chosen: list[WaitlistEntry] = []
    for entry in entries.iterator(chunk_size=200):
        if wants(entry, slot, calendar.zone) and _reachable(entry.patient) and _qualifies(entry, slot, calendar):
            chosen.append(entry)
            if len(chosen) == count:
                break
    return chosen


def _close(slot: FreedSlot, status: str, outcome: str, now: datetime) -> None:
    slot.status, slot.outcome, slot.closed_at = status, outcome, now
    slot.save(update_fields=["status", "outcome", "closed_at", "appointment"])


def _chair_still_free(slot: FreedSlot, calendar: LocationCalendar) -> bool:
    return calendar.placement(slot.service_type, slot.start) is not None


def _offer_round(slot: FreedSlot, now: datetime) -> int:
    """Offer one locked open slot to its next entries, or close it. Returns the number of offers made."""
    location = slot.location
    if slot.offers.filter(status=OfferStatus.OPEN).exists():
        return 0  # a round is out
    if slot.start - now < timedelta(minutes=location.waitlist_min_notice_minutes):
        _close(slot, FreedSlotStatus.UNFILLED, "No one took it before the notice limit.", now)
        return 0
    calendar = LocationCalendar(location, slot.start, slot.hold_until)
    if not _chair_still_free(slot, calendar):
        _close(slot, FreedSlotStatus.GONE, "The time was booked outside the waitlist.", now)
        return 0
    entries = _ranked_candidates(slot, calendar, location.waitlist_offer_count)
    if not entries:
        outcome = "No matching entry on the waitlist." if slot.rounds == 0 else "No taker among the matching entries."
        _close(slot, FreedSlotStatus.UNFILLED, outcome, now)
        return 0
    expires = min(now + timedelta(minutes=location.waitlist_offer_minutes), slot.start)
    offers = WaitlistOffer.objects.bulk_create(
        WaitlistOffer(slot=slot, entry=entry, created_at=now, expires_at=expires) for entry in entries
    )
    Reminder.objects.bulk_create(
        Reminder(kind=ReminderKind.WAITLIST_OFFER, patient_id=offer.entry.patient_id, channel=channel,
                 subject_id=offer.public_id, due_at=now)
        for offer in offers
        for channel in (ReminderChannel.EMAIL, ReminderChannel.SMS)
    )  # fmt: skip
    slot.rounds += 1
    slot.save(update_fields=["rounds"])
    return len(offers)


def offers_expire(now: datetime | None = None) -> int:
    """Close the offers whose link has run out."""
    now = now or timezone.now()
    return WaitlistOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now).update(
        status=OfferStatus.EXPIRED, answered_at=now, detail="No reply before the offer expired."
    )


def slots_offer(now: datetime | None = None) -> int:
    """The sweep: expire offers, then give each open slot its next round (one transaction per slot).

    Slots are claimed with ``SKIP LOCKED``, so two sweeps never offer one slot twice, and a claim (which
    locks the slot) is never offered over. Returns the number of offers made.
    """
    now = now or timezone.now()
    offers_expire(now)
    made = 0
    ids = list(FreedSlot.objects.filter(status=FreedSlotStatus.OPEN).order_by("freed_at").values_list("pk", flat=True)
               [:SWEEP_BATCH])  # fmt: skip
    for slot_id in ids:
        with transaction.atomic(durable=True):
            slot = (
                FreedSlot.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("location", "service_type", "freed_from")
                .filter(pk=slot_id, status=FreedSlotStatus.OPEN)
                .first()
            )
            if slot is not None:
                made += _offer_round(slot, now)
    return made


# --- claims ---------------------------------------------------------------------------------


def waitlist_offer_claim(*, offer: WaitlistOffer, now: datetime | None = None) -> WaitlistOffer:
    """The patient takes the offered visit; returns the offer with its outcome.

    ``claimed``: the visit is booked (``offer.entry.appointment``). ``taken``: someone else was first, or the
    chair was booked otherwise. ``expired``: too late. ``refused``: the booking rules refused this patient
    (``offer.detail`` says why). An offer already answered is returned as it is: a second click changes nothing.
    """
    now = now or timezone.now()
    with change_transaction():
        slot = FreedSlot.objects.select_for_update().select_related("location", "service_type").get(pk=offer.slot_id)
        offer = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        if offer.status != OfferStatus.OPEN:
            return offer
        if slot.status != FreedSlotStatus.OPEN:
            return _answer(offer, OfferStatus.TAKEN, now, "Another patient took this time first.")
        if now >= offer.expires_at:
            return _answer(offer, OfferStatus.EXPIRED, now, "The offer expired before it was taken.")
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("patient", "series")
            .get(pk=offer.entry_id)
        )
        if entry.status != WaitlistStatus.WAITING:  # one entry, one visit: its offers of other times are closed
            return _answer(offer, OfferStatus.REFUSED, now, "You have already taken another time from the waitlist.")
        try:
            with transaction.atomic():
                visit = appointment_book(
                    actor=None, patient=entry.patient, service_type=slot.service_type, location=slot.location,
                    start=slot.start, series=entry.series,
                )  # fmt: skip
        except ApplicationError as error:
            if _chair_still_free(slot, LocationCalendar(slot.location, slot.start, slot.hold_until)):
                return _answer(offer, OfferStatus.REFUSED, now, error.detail)
            _close(slot, FreedSlotStatus.GONE, "The time was booked outside the waitlist.", now)
            _others_taken(slot, now)
            return _answer(offer, OfferStatus.TAKEN, now, "This time has just been booked.")
        entry.status, entry.appointment = WaitlistStatus.BOOKED, visit
        entry.save(update_fields=["status", "appointment", "updated_at"])
        entry.offers.filter(status=OfferStatus.OPEN).exclude(pk=offer.pk).update(
            status=OfferStatus.EXPIRED, answered_at=now, detail="Another time was taken from this entry."
        )
        slot.appointment = visit
        _close(slot, FreedSlotStatus.FILLED, "Taken from the waitlist.", now)
        _others_taken(slot, now)
        return _answer(offer, OfferStatus.CLAIMED, now, "")


def _answer(offer: WaitlistOffer, status: str, now: datetime, detail: str) -> WaitlistOffer:
    offer.status, offer.answered_at, offer.detail = status, now, detail
    offer.save(update_fields=["status", "answered_at", "detail"])
    return offer


def _others_taken(slot: FreedSlot, now: datetime) -> None:
    slot.offers.filter(status=OfferStatus.OPEN).update(
        status=OfferStatus.TAKEN, answered_at=now, detail="Another patient took this time first."
    )
