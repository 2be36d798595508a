"""Clearance records: a clinician's decision after the intake assessment."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from backend.models import User
from scheduling.errors import InvalidBookingRequest
from scheduling.models import Clearance, ClearanceStatus, Patient


@transaction.atomic(durable=True)
def clearance_record(
    *, actor: User, patient: Patient, status: str, valid_until: date | None, notes: str = ""
) -> Clearance:
    if status == ClearanceStatus.CLEARED and valid_until is None:
        raise InvalidBookingRequest(
            "A clearance needs the date it is valid until.", errors={"valid_until": ["Required when cleared."]}
        )
    return Clearance.objects.create(
        patient=patient, status=status, valid_until=valid_until, notes=notes, recorded_by=actor
    )
