"""What a reminder says: minimum necessary (clinic, date, local time, call-back number, links).

No diagnosis, drug or treatment words anywhere: not the service's name, not
the patient's codes. Preparation is said plainly (when to stop eating, when
to arrive, bring a driver). Times are the visit's local time at the clinic,
labelled with the zone so a patient elsewhere reads them right.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string

from outcomes.due import due_for_visit
from outcomes.links import form_link
from outcomes.models import SafetyAlert
from scheduling.ics import calendar_bytes
from scheduling.links import link, offer_link, unsubscribe_link
from scheduling.models import Appointment, Reminder, ReminderChannel, ReminderKind, SeriesChangeKind, WaitlistOffer
from worker.channels.base import OutgoingMessage

SERIES_SUMMARIES: dict[str, str] = {
    SeriesChangeKind.BOOKED: "your series of visits is booked:",
    SeriesChangeKind.EXTENDED: "more visits were added to your series:",
    SeriesChangeKind.MOVED: "one of your visits has moved:",
    SeriesChangeKind.CANCELLED: "these visits are cancelled:",
}


def _fmt(moment: datetime, short: bool = False) -> str:
    return moment.strftime("%a %d %b %H:%M") if short else moment.strftime("%A %d %B %Y at %H:%M")


def _series_visit(start: datetime, clinic_zone: ZoneInfo, patient_zone: str) -> str:
    """One visit of a series message: the clinic's time, and the patient's own when their zone differs."""
    local = start.astimezone(clinic_zone)
    line = f"{_fmt(local, short=True)} {local:%Z}"
    if patient_zone and patient_zone != clinic_zone.key:
        theirs = start.astimezone(ZoneInfo(patient_zone))
        same_day = theirs.date() == local.date()
        line += (
            f" ({theirs:%H:%M %Z} your time)" if same_day else f" ({_fmt(theirs, short=True)} {theirs:%Z} your time)"
        )
    return line


def visit_context(appointment: Appointment) -> dict[str, object]:
    location = appointment.location
    service = appointment.service_type
    local = appointment.start.astimezone(location.zone)
    arrive = local - timedelta(minutes=service.arrive_early_minutes) if service.arrive_early_minutes else None
    fasting = local - timedelta(hours=service.fasting_hours) if service.fasting_hours else None
    patient_zone = appointment.patient.timezone
    yours = ""
    if patient_zone != location.timezone:
        theirs = appointment.start.astimezone(ZoneInfo(patient_zone))
        yours = f"{_fmt(theirs)} in your time zone ({patient_zone})"
    return {
        "your_time": yours,
        "first_name": appointment.patient.first_name,
        "clinic": location.name,
        "address": location.address,
        "phone": location.phone,
        "zone": location.timezone,
        "when": _fmt(local),
        "when_short": f"{_fmt(local, short=True)} {local.strftime('%Z')}",
        "arrive_by": f"{arrive:%H:%M}" if arrive else "",
        "arrive_by_short": f"{arrive:%H:%M}" if arrive else "",
        "fasting_from": _fmt(fasting) if fasting else "",
        "fasting_from_short": _fmt(fasting, short=True) if fasting else "",
        "driver": service.requires_driver,
        "prep": service.prep_instructions,
        "confirm_url": link(appointment, "confirm"),
        "unsubscribe_url": unsubscribe_link(appointment.patient),
        "cancel_url": link(appointment, "cancel"),
        "form_url": form_link(appointment.patient) if forms_due_before(appointment) else "",
    }


def forms_due_before(appointment: Appointment) -> bool:
    """Whether the visit's series asks for a check-in form before it that is still unanswered (no query for a
    visit outside a series)."""
    if appointment.series_id is None:
        return False
    return bool(due_for_visit(appointment))


def staff_notice(reminder: Reminder) -> OutgoingMessage:
    """A safety alert for the on-call clinician: what was met and where to act, with the patient's initials only
    (the record in the console holds the rest)."""
    assert reminder.subject_id is not None  # noqa: S101 - the table's check constraint
    alert = SafetyAlert.objects.select_related("measure__instrument", "location").get(public_id=reminder.subject_id)
    patient = reminder.patient
    zone = alert.location.zone if alert.location else ZoneInfo(patient.timezone)
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    context = {
        "initials": f"{patient.first_name[:1]}.{patient.last_name[:1]}.",
        "clinic": alert.location.name if alert.location else "the clinic",
        "answered": f"{_fmt(alert.measure.taken_at.astimezone(zone))} {alert.measure.taken_at.astimezone(zone):%Z}",
        "instrument": alert.measure.instrument.name,
        "rules": alert.rules,
        "record_url": f"{base}/console/patients/{patient.public_id}/",
        "alert_id": alert.public_id,
    }
    return OutgoingMessage(
        to=reminder.recipient, subject=f"Safety alert at {context['clinic']}: a patient needs a clinician today",
        text=render_to_string("reminders/safety_alert.txt", context), idempotency_key=str(reminder.public_id),
    )  # fmt: skip


def form_invite(reminder: Reminder) -> OutgoingMessage:
    """A follow-up check-in form: the clinic, the link, nothing about why."""
    assert reminder.appointment is not None  # noqa: S101 - the follow-up counts from this visit
    patient = reminder.patient
    location = reminder.appointment.location
    context = {"first_name": patient.first_name, "clinic": location.name, "phone": location.phone,
               "form_url": form_link(patient), "unsubscribe_url": unsubscribe_link(patient)}  # fmt: skip
    key = str(reminder.public_id)
    if reminder.channel == ReminderChannel.SMS:
        return OutgoingMessage(to=patient.phone, text=render_to_string("reminders/form_sms.txt", context).strip(),
                               idempotency_key=key)  # fmt: skip
    return OutgoingMessage(
        to=patient.email, subject=f"A short check-in form from {location.name}", idempotency_key=key,
        text=render_to_string("reminders/form.txt", context),
    )  # fmt: skip


def waitlist_offer(reminder: Reminder, offer: WaitlistOffer) -> OutgoingMessage:
    """A freed visit offered from the waitlist: the clinic, the time, the link and until when. Nothing clinical."""
    patient = reminder.patient
    location = offer.slot.location
    local = offer.slot.start.astimezone(location.zone)
    context = {
        "first_name": patient.first_name, "clinic": location.name, "phone": location.phone,
        "when": f"{_fmt(local)} {local:%Z}", "when_short": f"{_fmt(local, short=True)} {local:%Z}",
        "until": f"{offer.expires_at.astimezone(location.zone):%H:%M %Z}", "offer_url": offer_link(offer),
        "unsubscribe_url": unsubscribe_link(patient),
    }  # fmt: skip
    key = str(reminder.public_id)
    if reminder.channel == ReminderChannel.SMS:
        return OutgoingMessage(to=patient.phone, text=render_to_string("reminders/offer_sms.txt", context).strip(),
                               idempotency_key=key)  # fmt: skip
    return OutgoingMessage(
        to=patient.email, subject=f"A visit time has opened at {location.name}", idempotency_key=key,
        text=render_to_string("reminders/offer.txt", context),
    )  # fmt: skip


def offer_of(reminder: Reminder) -> WaitlistOffer:
    assert reminder.subject_id is not None  # noqa: S101 - the table's check constraint
    return WaitlistOffer.objects.select_related("slot__location").get(public_id=reminder.subject_id)


def render(reminder: Reminder, *, offer: WaitlistOffer | None = None) -> OutgoingMessage:
    """The row's message; ``offer`` is a waitlist offer's row when the caller has read it already."""
    if reminder.kind == ReminderKind.STAFF_NOTICE:
        return staff_notice(reminder)
    if reminder.kind == ReminderKind.WAITLIST_OFFER:
        return waitlist_offer(reminder, offer or offer_of(reminder))
    if reminder.kind == ReminderKind.FORM_INVITE:
        return form_invite(reminder)
    patient = reminder.patient
    to = patient.email if reminder.channel == ReminderChannel.EMAIL else patient.phone
    key = str(reminder.public_id)
    if reminder.kind == ReminderKind.VISIT:
        assert reminder.appointment is not None  # noqa: S101
        reminder.appointment.patient = patient  # the same row: no second query
        context = visit_context(reminder.appointment)
        local = reminder.appointment.start.astimezone(reminder.appointment.location.zone)
        subject = f"Reminder: your visit at {context['clinic']} on {local:%a %d %b}"
        if reminder.channel == ReminderChannel.SMS:
            return OutgoingMessage(to=to, text=render_to_string("reminders/visit_sms.txt", context).strip(),
                                   idempotency_key=key)  # fmt: skip
        invite = calendar_bytes([reminder.appointment], "patient", method="REQUEST")  # a single visit's calendar
        return OutgoingMessage(
            to=to, subject=subject, text=render_to_string("reminders/visit.txt", context),
            html=render_to_string("reminders/visit.html", context), idempotency_key=key,
            attachments=(("visit.ics", invite, "text/calendar; method=REQUEST"),),
        )  # fmt: skip
    change = reminder.series_change
    assert change is not None  # noqa: S101
    series = change.series
    location = series.location
    visits = list(
        Appointment.objects.filter(pk__in=change.appointment_ids)
        .select_related("location", "patient", "service_type", "resource")
        .order_by("start")
    )
    context = {
        "first_name": patient.first_name, "clinic": location.name, "phone": location.phone,
        "unsubscribe_url": unsubscribe_link(patient),
        "summary": SERIES_SUMMARIES.get(change.kind, "your series of visits has changed:").capitalize(),
        "visits": [_series_visit(v.start, location.zone, patient.timezone) for v in visits],
    }  # fmt: skip
    if reminder.channel == ReminderChannel.SMS:
        return OutgoingMessage(to=to, text=render_to_string("reminders/series_sms.txt", context).strip(),
                               idempotency_key=key)  # fmt: skip
    method = "CANCEL" if change.kind == SeriesChangeKind.CANCELLED else "REQUEST"
    invite = calendar_bytes(visits, "patient", method=method)  # calendar clients add, move or remove the events
    return OutgoingMessage(
        to=to, subject=f"Your visits at {location.name} have changed", idempotency_key=key,
        text=render_to_string("reminders/series.txt", context),
        attachments=(("visits.ics", invite, f"text/calendar; method={method}"),),
    )  # fmt: skip
