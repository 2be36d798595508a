"""What the treatment loop does when scheduling changes: letters to the referring provider.

Connected in ``outcomes/apps.py``; each receiver runs inside the scheduling change's transaction.
"""

from __future__ import annotations

from typing import Any

from outcomes.letters import letter_create
from outcomes.models import Letter, LetterKind
from scheduling.models import Appointment, AppointmentStatus, Series

STILL_AHEAD = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN,
               AppointmentStatus.IN_PROGRESS)  # fmt: skip
OVER = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)


def on_series_booked(sender: Any, *, series: Series, actor: Any, **_: Any) -> None:
    """A referral acknowledgement for a patient with a referring provider."""
    if series.patient.referrer_id is not None:
        letter_create(actor=actor, series=series, kind=LetterKind.ACKNOWLEDGEMENT)


def on_appointment_status_changed(sender: Any, *, appointment: Appointment, actor: Any, **_: Any) -> None:
    """The treatment summary once the series' last visit is over (once per series)."""
    if appointment.series_id is None or appointment.status not in OVER:
        return
    if Appointment.objects.filter(series=appointment.series_id, status__in=STILL_AHEAD).exists():
        return
    series = Series.objects.select_related("patient").get(pk=appointment.series_id)
    if (
        series.patient.referrer_id is None
        or not series.appointments.filter(status=AppointmentStatus.COMPLETED).exists()
    ):
        return
    if Letter.objects.filter(series=series, kind=LetterKind.SUMMARY).exists():
        return
    letter_create(actor=actor, series=series, kind=LetterKind.SUMMARY)
