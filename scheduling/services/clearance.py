"""Clearance records: a clinician's decision after the intake assessment."""

from __future__ import annotations

from datetime import date, datetime

from backend.models import User
from backend.transactions import change_transaction
from scheduling.errors import InvalidBookingRequest, NotCleared
from scheduling.models import Clearance, ClearanceStatus, Location, Patient, ServiceType
from scheduling.time import local_date


@change_transaction()
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


def latest_clearance(patient_id: int) -> Clearance | None:
    """The patient's most recent clearance: the one that decides."""
    return Clearance.objects.filter(patient_id=patient_id).order_by("-recorded_at", "-id").first()


def ensure_cleared(patient: Patient, service_type: ServiceType, start: datetime, location: Location) -> None:
    """Refuse when the service needs clearance and the patient's latest clearance does not cover the visit's day.

    Checked when a visit is booked or moved, and again at check-in and start (a clearance may be revoked
    or expire after booking).
    """
    if not service_type.requires_clearance:
        return
    latest = latest_clearance(patient.pk)
    visit_day = local_date(start, location.zone)
    if latest is None:
        raise NotCleared(
            f"{patient} has no clearance on record; a clinician must clear them before {service_type.name}."
        )
    if latest.status != ClearanceStatus.CLEARED:
        raise NotCleared(f"{patient} was assessed as not cleared for treatment; {service_type.name} cannot go ahead.")
    if latest.valid_until is None or latest.valid_until < visit_day:
        raise NotCleared(
            f"{patient}'s clearance expires on {latest.valid_until:%Y-%m-%d}, before this visit on "
            f"{visit_day:%Y-%m-%d}; a clinician must renew it."
        )
