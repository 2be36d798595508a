"""Record a chair freed ahead of time, in the transaction that frees it: the waitlist's work item.

A cancellation, a no-show or a move frees the visit's hold. When that hold starts at least the
location's ``waitlist_min_notice_minutes`` ahead, a ``FreedSlot`` row is written with the change; the
worker's sweep (``scheduling.services.waitlist.slots_offer``) then offers it. A change that rolls back
leaves no slot, and a slot committed while the broker is down is offered once the sweep runs again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from scheduling.models import Appointment, FreedSlot


def slots_freed(appointments: Iterable[Appointment], *, reason: str, now: datetime | None = None) -> list[FreedSlot]:
    """Record the holds of ``appointments`` (their times before the change) as freed for the waitlist."""
    now = now or timezone.now()
    ahead = [
        visit
        for visit in appointments
        if visit.start - now >= timedelta(minutes=visit.location.waitlist_min_notice_minutes)
    ]
    return FreedSlot.objects.bulk_create(
        FreedSlot(location_id=visit.location_id, service_type_id=visit.service_type_id, freed_from=visit,
                  reason=reason, start=visit.start, hold_until=visit.hold_until, freed_at=now)
        for visit in ahead
    )  # fmt: skip
