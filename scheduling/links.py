"""Signed, single-purpose, expiring links for patients: confirm or cancel one visit, stop emails.

A visit's token names the appointment, the action and the visit's start when
the link was made; it is signed with SECRET_KEY (salted per action, so a
confirm token cannot cancel) and expires after ``REMINDER_LINK_MAX_AGE_DAYS``.
Moving the visit ends its old links (the start no longer matches: the patient
uses the link of the message that announced the new time), and the transition
rules refuse a link's action once the visit has started or ended. Unsubscribe
links expire after the same time; every email carries a fresh one.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from scheduling.models import Appointment, Patient, WaitlistOffer

ACTIONS = ("confirm", "cancel")  # read_token() refuses any other action: its salt matches no token


class InvalidLink(Exception):
    pass


def _max_age() -> int:
    return settings.REMINDER_LINK_MAX_AGE_DAYS * 24 * 3600


def _read(token: str, salt: str) -> object:
    try:
        return signing.loads(token, salt=salt, max_age=_max_age())
    except signing.SignatureExpired as error:
        raise InvalidLink("This link has expired. The latest message from the clinic has a new one.") from error
    except signing.BadSignature as error:
        raise InvalidLink("This link is not valid.") from error


def make_token(appointment: Appointment, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    payload = [str(appointment.public_id), int(appointment.start.timestamp())]
    return signing.dumps(payload, salt=f"appointment-link:{action}", compress=False)


def appointment_for_link(token: str, action: str) -> Appointment:
    """The visit a link acts on, or InvalidLink (tampered, other action, expired, moved since, gone)."""
    payload = _read(token, f"appointment-link:{action}")
    if not (isinstance(payload, list) and len(payload) == 2):  # [public id, start]
        raise InvalidLink("This link is not valid.")
    public_id, start = payload
    try:
        appointment = Appointment.objects.select_related("location", "patient").get(public_id=public_id)
    except Appointment.DoesNotExist as error:
        raise InvalidLink("This visit no longer exists.") from error
    if int(appointment.start.timestamp()) != start:
        raise InvalidLink("This visit has moved since this link was sent. Use the link in the latest message.")
    return appointment


def unsubscribe_token(patient: Patient) -> str:
    return signing.dumps(str(patient.public_id), salt="patient-link:unsubscribe-email", compress=False)


def read_unsubscribe_token(token: str) -> str:
    """The patient's public id, or InvalidLink (tampered, expired)."""
    return str(_read(token, "patient-link:unsubscribe-email"))


def unsubscribe_link(patient: Patient) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/r/unsubscribe/{unsubscribe_token(patient)}/"


def link(appointment: Appointment, action: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/r/{action}/{make_token(appointment, action)}/"


def offer_link(offer: WaitlistOffer) -> str:
    """The link of a waitlist offer: it names the offer, nothing else (the offer's own expiry decides)."""
    token = signing.dumps(str(offer.public_id), salt="waitlist-offer", compress=False)
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/r/offer/{token}/"


def offer_for_link(token: str) -> WaitlistOffer:
    """The offer a link names, or InvalidLink (tampered, gone)."""
    public_id = _read(token, "waitlist-offer")
    try:
        return WaitlistOffer.objects.select_related("slot__location", "entry__patient").get(public_id=str(public_id))
    except (WaitlistOffer.DoesNotExist, ValueError) as error:
        raise InvalidLink("This offer is not valid.") from error
