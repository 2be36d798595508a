"""Private calendar feeds: a revocable address per patient and per staff member (``CalendarFeed``).

The token is a random 43-character string; the feed's URL is the only place it appears. Rotating
revokes the old address at once; revoking leaves none until the next rotation.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from backend.transactions import change_transaction
from scheduling.models import Appointment, AppointmentStatus, CalendarFeed, Patient, StaffMember

FEED_HISTORY = timedelta(days=30)  # past visits a feed keeps showing


def _owner(patient: Patient | None, staff: StaffMember | None) -> dict[str, object]:
    return {"patient": patient} if patient is not None else {"staff": staff}


def feed_url(feed: CalendarFeed) -> str:
    kind = "patient" if feed.patient_id else "staff"
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/ical/{kind}/{feed.token}.ics"


@change_transaction()
def feed_rotate(*, patient: Patient | None = None, staff: StaffMember | None = None) -> CalendarFeed:
    """A new address; the old one (if any) stops working now."""
    feed_revoke(patient=patient, staff=staff)
    return CalendarFeed.objects.create(token=secrets.token_urlsafe(32), **_owner(patient, staff))


@change_transaction()
def feed_current(*, staff: StaffMember) -> CalendarFeed:
    """The staff member's active address, made on first use."""
    active = CalendarFeed.objects.select_for_update().filter(staff=staff, revoked_at__isnull=True).first()
    return active or CalendarFeed.objects.create(token=secrets.token_urlsafe(32), staff=staff)


def feed_revoke(*, patient: Patient | None = None, staff: StaffMember | None = None) -> int:
    return CalendarFeed.objects.filter(revoked_at__isnull=True, **_owner(patient, staff)).update(
        revoked_at=timezone.now()
    )


def feed_visits(feed: CalendarFeed) -> QuerySet[Appointment]:
    """What a feed shows: the owner's visits from 30 days ago on, cancelled and no-show ones left out (a client
    drops an event that leaves the feed)."""
    visits = Appointment.objects.filter(start__gte=timezone.now() - FEED_HISTORY).exclude(
        status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
    )
    if feed.patient_id is not None:
        visits = visits.filter(patient=feed.patient_id)
    else:
        visits = visits.filter(staff_assignments__staff=feed.staff_id).distinct()
    return visits.select_related("location", "patient", "service_type", "resource").order_by("start")


def active_feed(kind: str, token: str) -> CalendarFeed | None:
    """The active feed of this kind ("patient" or "staff") with this token, or None (unknown or revoked)."""
    owner = {"patient__isnull": False} if kind == "patient" else {"staff__isnull": False}
    return CalendarFeed.objects.filter(token=token[:64], revoked_at__isnull=True, **owner).first()
