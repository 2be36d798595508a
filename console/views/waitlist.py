"""The waitlist: reception adds and removes entries and follows the offers of freed visits; a patient joins
from their own page where the clinic allows it.

Forms are read by the API's own serializer and written by the same services as ``/api/v1/waitlist/``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.errors import ApplicationError
from console.access import actor, allowed, console_page
from console.params import found_or_404, validated
from scheduling import selectors
from scheduling.api.waitlist import SelfJoinInput, WaitlistEntryInput
from scheduling.booking.protocol import WEEKDAY_NAMES
from scheduling.models import (
    FreedSlot,
    Location,
    OfferStatus,
    Patient,
    ServiceType,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.reports import waitlist_refill_report
from scheduling.services.waitlist import waitlist_entry_add, waitlist_entry_remove

FREED_DAYS = 14  # the freed visits the page lists: those freed in the last two weeks


def entry_input(post: QueryDict, patient: str) -> dict[str, Any]:
    """The API's body from the form: one time window (from, to) and the checked days and locations."""
    data: dict[str, Any] = {"patient": patient, "locations": post.getlist("locations"),
                            "weekdays": post.getlist("weekdays")}  # fmt: skip
    for name in ("service_type", "earliest_date", "latest_date", "priority", "note"):
        if post.get(name, "") != "":
            data[name] = post[name]
    if post.get("window_from") or post.get("window_to"):
        data["time_windows"] = [[post.get("window_from", ""), post.get("window_to", "")]]
    return data


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %d %b %H:%M}" if moment else ""


def describe(entry: WaitlistEntry) -> dict[str, Any]:
    """What an entry accepts, in words."""
    days = ", ".join(WEEKDAY_NAMES[day][:3] for day in entry.weekdays) or "Any day"
    times = ", ".join(f"{start} to {end}" for start, end in entry.time_windows) or "Any time"
    dates = " to ".join(f"{day:%d %b %Y}" for day in (entry.earliest_date, entry.latest_date) if day) or "Any date"
    if entry.earliest_date and not entry.latest_date:
        dates = f"From {entry.earliest_date:%d %b %Y}"
    elif entry.latest_date and not entry.earliest_date:
        dates = f"Until {entry.latest_date:%d %b %Y}"
    return {"entry": entry, "days": days, "times": times, "dates": dates,
            "locations": ", ".join(location.name for location in entry.locations.all())}  # fmt: skip


def _months_ago(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _offer_row(offer: WaitlistOffer) -> dict[str, Any]:
    zone = offer.slot.location.zone
    return {"offer": offer, "when": _local(offer.slot.start, zone), "offered": _local(offer.created_at, zone),
            "expires": _local(offer.expires_at, zone), "answered": _local(offer.answered_at, zone)}  # fmt: skip


def _page(request: HttpRequest, *, error: ApplicationError | None = None, form: QueryDict | None = None) -> Any:
    user = request.user
    waiting = selectors.waitlist_entries_for(user).filter(status=WaitlistStatus.WAITING)
    offers = selectors.waitlist_offers_for(user)
    locations = selectors.locations_for(user)
    since = timezone.now() - timedelta(days=FREED_DAYS)
    freed = (
        FreedSlot.objects.filter(location__in=locations, freed_at__gte=since)
        .select_related("location", "service_type", "appointment__patient")
        .order_by("-freed_at")[:100]
    )
    context: dict[str, Any] = {
        "title": "Waitlist", "section": "waitlist", "error": error, "form": form or {},
        "can_book": allowed(user, "booking"),
        "entries": [describe(entry) for entry in waiting.order_by("-priority", "created_at", "id")[:200]],
        "in_flight": [_offer_row(offer) for offer in offers.filter(status=OfferStatus.OPEN).order_by("expires_at")],
        "answered": [_offer_row(offer) for offer in offers.exclude(status=OfferStatus.OPEN)
                     .filter(created_at__gte=since).order_by("-created_at")[:50]],
        "freed": [{"slot": slot, "when": _local(slot.start, slot.location.zone),
                   "freed_at": _local(slot.freed_at, slot.location.zone)} for slot in freed],
        "refill": waitlist_refill_report(locations=locations, start=_months_ago(timezone.localdate(), 2),
                                         end=timezone.localdate()),
        "locations": locations.order_by("name"),
        "service_types": selectors.service_types_for(user).filter(is_active=True).order_by("name"),
        "weekday_names": list(enumerate(WEEKDAY_NAMES)),
    }  # fmt: skip
    return TemplateResponse(request, "console/waitlist.html", context, status=error.http_status if error else 200)


@console_page("waitlist")
def waitlist(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@console_page("booking")
def waitlist_add(request: HttpRequest) -> HttpResponse:
    patient = found_or_404(selectors.patients_for(request.user), request.POST.get("patient"), "patient")
    try:
        data = WaitlistEntryInput(data=entry_input(request.POST, str(patient.public_id)), context={"request": request})
        validated(data)
        waitlist_entry_add(actor=actor(request), patient=patient, fields=data.fields_of())
    except ApplicationError as error:
        return _page(request, error=error, form=request.POST)
    return redirect(f"{reverse('console:waitlist')}?added=1")


@require_POST
@console_page("booking")
def waitlist_remove(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = found_or_404(selectors.waitlist_entries_for(request.user), entry_id, "waitlist entry")
    waitlist_entry_remove(actor=actor(request), entry=entry)
    return redirect("console:waitlist")


# --- the patient's own ------------------------------------------------------------------------


def self_join_context(patient: Patient) -> dict[str, Any]:
    """What the patient's page offers: the locations that let patients join, and the patient's entries."""
    locations = list(Location.objects.filter(group_id=patient.group_id, waitlist_self_join=True).order_by("name"))
    services = ServiceType.objects.filter(is_active=True, appointments__patient=patient).distinct()
    entries = WaitlistEntry.objects.filter(patient=patient, status=WaitlistStatus.WAITING).prefetch_related("locations")
    return {"join_locations": locations, "join_services": services.order_by("name"),
            "my_entries": [describe(entry) for entry in entries.select_related("service_type")],
            "weekday_names": list(enumerate(WEEKDAY_NAMES))}  # fmt: skip


@require_POST
@console_page("patient")
def my_waitlist_join(request: HttpRequest) -> HttpResponse:
    patient = selectors.patients_for(request.user).first()
    if patient is None:
        return redirect("console:me")
    data = SelfJoinInput(data=entry_input(request.POST, str(patient.public_id)), context={"request": request})
    validated(data)
    waitlist_entry_add(actor=actor(request), patient=patient, fields=data.fields_of())
    return redirect(f"{reverse('console:me')}?done=waitlist")


@require_POST
@console_page("patient")
def my_waitlist_leave(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = found_or_404(selectors.waitlist_entries_for(request.user), entry_id, "waitlist entry")
    waitlist_entry_remove(actor=actor(request), entry=entry)
    return redirect(f"{reverse('console:me')}?done=left")
