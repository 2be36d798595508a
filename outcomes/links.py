"""The signed link to a patient's check-in forms: it opens the forms due now, without signing in.

The token names the patient only (the forms shown are those due when it is opened, so a moved visit never
leaves a stale link), is signed with SECRET_KEY under its own salt and expires after
``FORM_LINK_MAX_AGE_DAYS``.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from scheduling.links import InvalidLink
from scheduling.models import Patient

SALT = "patient-link:check-in-form"


def form_token(patient: Patient) -> str:
    return signing.dumps(str(patient.public_id), salt=SALT, compress=False)


def form_link(patient: Patient) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/console/forms/{form_token(patient)}/"


def patient_for_form_token(token: str) -> Patient:
    """The patient a form link is for, or InvalidLink (tampered, expired, no such patient)."""
    try:
        public_id = signing.loads(token, salt=SALT, max_age=settings.FORM_LINK_MAX_AGE_DAYS * 24 * 3600)
    except signing.SignatureExpired as error:
        raise InvalidLink("This link has expired. The clinic's latest message has a new one.") from error
    except signing.BadSignature as error:
        raise InvalidLink("This link is not valid.") from error
    patient = Patient.objects.filter(public_id=str(public_id)).select_related("group").first()
    if patient is None:
        raise InvalidLink("This link is not valid.")
    return patient
