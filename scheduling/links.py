"""Signed, single-purpose, expiring links for patients: confirm or cancel one visit.

A token names the appointment and the action; it is signed with SECRET_KEY
(salted per action, so a confirm token cannot cancel), expires after
``REMINDER_LINK_MAX_AGE_DAYS`` and is useless once the visit has started.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from scheduling.models import Appointment, Patient

ACTIONS = ("confirm", "cancel")  # read_token() refuses any other action: its salt matches no token


class InvalidLink(Exception):
    pass


def make_token(appointment: Appointment, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    return signing.dumps(str(appointment.public_id), salt=f"appointment-link:{action}", compress=False)


def read_token(token: str, action: str) -> str:
    """The appointment's public id, or InvalidLink (tampered, other action, expired)."""
    try:
        return str(
            signing.loads(
                token, salt=f"appointment-link:{action}", max_age=settings.REMINDER_LINK_MAX_AGE_DAYS * 24 * 3600
            )
        )
    except signing.SignatureExpired as error:
        raise InvalidLink("This link has expired.") from error
    except signing.BadSignature as error:
        raise InvalidLink("This link is not valid.") from error


def unsubscribe_token(patient: Patient) -> str:
    return signing.dumps(str(patient.public_id), salt="patient-link:unsubscribe-email", compress=False)


def read_unsubscribe_token(token: str) -> str:
    """The patient's public id; unsubscribe links do not expire (a patient may keep an old email)."""
    try:
        return str(signing.loads(token, salt="patient-link:unsubscribe-email"))
    except signing.BadSignature as error:
        raise InvalidLink("This link is not valid.") from error


def unsubscribe_link(patient: Patient) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/r/unsubscribe/{unsubscribe_token(patient)}/"


def link(appointment: Appointment, action: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/r/{action}/{make_token(appointment, action)}/"
