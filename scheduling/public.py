"""The small public pages behind the links in messages: confirm or cancel a visit, stop emails, take a
visit offered from the waitlist.

GET shows what the link will do; only POST changes anything, so mail scanners
that open links do not confirm or cancel visits.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from backend.audit import audit_record, client_ip
from backend.errors import ApplicationError
from scheduling.links import InvalidLink, appointment_for_link, offer_for_link, read_unsubscribe_token
from scheduling.models import Appointment, OfferStatus, Patient, ReminderChannel, WaitlistOffer
from scheduling.services.patient_replies import opt_out
from scheduling.services.transitions import appointment_transition
from scheduling.services.waitlist import waitlist_offer_claim

TITLES = {"confirm": "Confirm your visit", "cancel": "Cancel your visit"}


@require_http_methods(["GET", "POST"])
def appointment_link(request: HttpRequest, action: str, token: str) -> HttpResponse:
    context: dict[str, object] = {"title": TITLES.get(action, "Your visit"), "action": action}
    try:
        appointment = appointment_for_link(token, action if action in TITLES else "invalid")
    except InvalidLink as error:
        context["error"] = str(error)
        return render(request, "scheduling/appointment_link.html", context, status=400)
    location = appointment.location
    context.update(
        appointment=appointment,
        clinic=location.name,
        phone=location.phone,
        when=appointment.start.astimezone(location.zone).strftime("%A %d %B %Y at %H:%M %Z"),
    )
    if request.method == "POST":
        try:
            appointment_transition(
                actor=None, appointment=appointment, action=action,
                reason="Cancelled by the patient from the reminder link" if action == "cancel" else "",
            )  # fmt: skip
        except ApplicationError as error:
            _record(request, action, appointment, refused=error.code)
            context["error"] = error.detail
            return render(request, "scheduling/appointment_link.html", context, status=409)
        _record(request, action, appointment)
        appointment.refresh_from_db()
        context["done"] = True
        context["late"] = appointment.cancelled_late
    return render(request, "scheduling/appointment_link.html", context)


def _record(request: HttpRequest, action: str, appointment: Appointment, refused: str = "") -> None:
    """A patient's action through a link, in the audit trail like any signed-in change (no user: the link)."""
    audit_record(
        actor=None, action=action, object_type="appointment", object_id=str(appointment.public_id),
        patient_id=appointment.patient.public_id, ip=client_ip(request),
        details={"via": "link", **({"refused": refused} if refused else {})},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop reminder emails: GET asks, POST does it (and skips what is already pending)."""
    context: dict[str, object] = {"title": "Stop reminder emails", "action": "unsubscribe"}
    try:
        patient = Patient.objects.get(public_id=read_unsubscribe_token(token))
    except InvalidLink as error:
        context["error"] = str(error)
        return render(request, "scheduling/unsubscribe.html", context, status=400)
    except Patient.DoesNotExist:
        context["error"] = "This link is not valid."
        return render(request, "scheduling/unsubscribe.html", context, status=400)
    if request.method == "POST":
        opt_out(patient=patient, channel=ReminderChannel.EMAIL)
        audit_record(actor=None, action="unsubscribe", object_type="patient", object_id=str(patient.public_id),
                     patient_id=patient.public_id, ip=client_ip(request), details={"via": "link"})  # fmt: skip
        context["done"] = True
    return render(request, "scheduling/unsubscribe.html", context)


# What an offer's page says once it is answered, and its HTTP status.
OFFER_OUTCOMES: dict[str, tuple[str, int]] = {
    OfferStatus.CLAIMED: ("It is yours: the visit is booked. You will get reminders as usual.", 200),
    OfferStatus.TAKEN: ("This time has been taken. You stay on the waitlist: we will tell you when another time "
                        "opens.", 409),
    OfferStatus.EXPIRED: ("This offer has expired. You stay on the waitlist: we will tell you when another time "
                          "opens.", 410),
    OfferStatus.REFUSED: ("This time could not be booked for you.", 409),
}  # fmt: skip


@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """A visit offered from the waitlist: GET shows it, POST takes it (the first patient to take it gets it)."""
    context: dict[str, object] = {"title": "A visit time has opened"}
    try:
        found = offer_for_link(token)
    except InvalidLink as error:
        context["error"] = str(error)
        return render(request, "scheduling/offer.html", context, status=400)
    slot, patient = found.slot, found.entry.patient
    location = slot.location
    context.update(clinic=location.name, phone=location.phone, address=location.address,
                   when=slot.start.astimezone(location.zone).strftime("%A %d %B %Y at %H:%M %Z"),
                   until=found.expires_at.astimezone(location.zone).strftime("%H:%M %Z"))  # fmt: skip
    signed_in = getattr(request.user, "patient", None) if request.user.is_authenticated else None
    if signed_in is not None and signed_in.pk != patient.pk:
        context["error"] = "This offer was sent to another patient."
        return render(request, "scheduling/offer.html", context, status=403)
    if request.method == "POST":
        found = waitlist_offer_claim(offer=found)
        _offer_record(request, found)
    elif found.status == OfferStatus.OPEN and found.expires_at <= timezone.now():
        found.status = OfferStatus.EXPIRED  # shown as expired; the sweep records it
    if found.status == OfferStatus.OPEN:
        return render(request, "scheduling/offer.html", context)
    message, status = OFFER_OUTCOMES[found.status]
    context.update(outcome=found.status, message=message, detail=found.detail)
    return render(request, "scheduling/offer.html", context, status=status)


def _offer_record(request: HttpRequest, offer: WaitlistOffer) -> None:
    audit_record(
        actor=None, action="waitlist claim", object_type="waitlist offer", object_id=str(offer.public_id),
        patient_id=offer.entry.patient.public_id, ip=client_ip(request),
        details={"via": "link", "outcome": offer.status},
    )  # fmt: skip
