"""Billing's reactions to appointment status changes (connected in ``BillingConfig.ready``).

Both run inside the status change's transaction:
- a completed visit draws a session from the patient's matching package;
- a late cancellation or a no-show gets a draft fee invoice per the location's policy.
"""

from __future__ import annotations

from typing import Any

from backend.models import User
from billing.services.fees import fee_invoice_for
from billing.services.packages import package_session_consume
from scheduling.models import Appointment, AppointmentStatus


def on_appointment_status_changed(
    sender: Any, *, appointment: Appointment, previous: str, actor: User | None, **kwargs: Any
) -> None:
    if appointment.status == AppointmentStatus.COMPLETED:
        package_session_consume(appointment)
    elif appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        fee_invoice_for(appointment, actor=actor)
