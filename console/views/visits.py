"""A visit's panel: its details, the status changes the user may apply now, cancel and reschedule.

Every change goes through the same service as the API's (``appointment_transition``,
``appointment_reschedule``); the panel only decides which buttons to draw, with the API's predicates.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework import serializers

from backend.errors import ApplicationError, ValidationFailed
from backend.throttling import BookingThrottle
from billing.selectors import policy_for
from console.access import actor, allowed, console_page, refused
from console.params import error_messages, form_data, found_or_404, parse_day, validated
from console.views.checkout import checkout_context
from console.views.patients import cleared_for
from scheduling import selectors
from scheduling.api.appointments import StartInput
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services.appointments import appointment_reschedule
from scheduling.services.availability import AvailabilityQuery, availability_search
from scheduling.services.transitions import (
    appointment_transition,
    is_late_cancellation,
    possible_actions,
)

MOVABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)  # as appointment_reschedule allows
ACTION_LABELS = {
    "confirm": "Confirm",
    "check_in": "Check in",
    "start": "Start infusion",
    "complete": "Complete",
    "no_show": "Mark no-show",
    "cancel": "Cancel visit",
}


def _visit(request: HttpRequest, visit_id: str) -> Appointment:
    return found_or_404(selectors.appointments_for(request.user), visit_id, "visit")


def _panel_context(request: HttpRequest, visit: Appointment, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    possible = possible_actions(visit, now)
    user = request.user
    actions = [
        {"name": name, "label": ACTION_LABELS[name], "opens_at": opens}
        for name, opens in possible.items()
        if name != "cancel" and allowed(user, f"transition:{name}")
    ]
    late = is_late_cancellation(visit, now)
    uncleared = any(item["name"] in ("check_in", "start") for item in actions) and not cleared_for(visit)
    fee = policy_for(visit.location).late_cancellation_fee if late else None
    return {
        "title": f"Visit of {visit.patient.first_name} {visit.patient.last_name}",
        "visit": visit,
        "zone": visit.location.timezone,
        "actions": actions,
        "can_cancel": "cancel" in possible and allowed(user, "transition:cancel"),
        "can_move": visit.status in MOVABLE and allowed(user, "booking"),
        "late": late,
        "late_fee": fee,
        "window_hours": visit.location.cancellation_window_hours,
        "local_day": visit.start.astimezone(visit.location.zone).date(),
        "uncleared": uncleared,
        "can_override": uncleared and allowed(user, "clearance_override"),
        **checkout_context(request, visit),
        **extra,
    }


def panel(request: HttpRequest, visit: Appointment, status: int = 200, **extra: Any) -> HttpResponse:
    """The visit's panel: a fragment for htmx, else the visit's page."""
    template = "console/_visit_panel.html" if request.htmx else "console/visit.html"  # type: ignore[attr-defined]
    return TemplateResponse(request, template, _panel_context(request, visit, **extra), status=status)


@console_page("staff")
def visit(request: HttpRequest, visit_id: str) -> HttpResponse:
    return panel(request, _visit(request, visit_id))


def _changed(request: HttpRequest, visit: Appointment, message: str) -> HttpResponse:
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("console:visit", visit_id=visit.public_id)
    response = panel(request, _visit(request, str(visit.public_id)), done=message)
    response["HX-Trigger"] = "board-changed"
    return response


@require_POST
@console_page("staff", limit=BookingThrottle)
def visit_action(request: HttpRequest, visit_id: str, action: str) -> HttpResponse:
    if action not in ACTION_LABELS:
        raise Http404("No such action.")
    if not allowed(request.user, f"transition:{action}"):
        return refused(request)
    appointment = _visit(request, visit_id)
    try:
        appointment_transition(
            actor=actor(request), appointment=appointment, action=action,
            reason=request.POST.get("reason", ""), clearance_override=request.POST.get("clearance_override", ""),
        )  # fmt: skip
    except ApplicationError as error:
        return panel(request, appointment, status=error.http_status, error=error)
    return _changed(request, appointment, f"{ACTION_LABELS[action]}: done.")


@console_page("booking", limit=BookingThrottle)
def reschedule(request: HttpRequest, visit_id: str) -> HttpResponse:
    """GET: the free starts on a day (the visit's own by default); POST: move the visit to one of them."""
    appointment = _visit(request, visit_id)
    zone = appointment.location.zone
    if request.method == "POST":
        try:
            data = StartInput(data=form_data(request.POST))
            validated(data)
            start = data.resolve_start(appointment.location)
            appointment_reschedule(actor=actor(request), appointment=appointment, start=start)
        except serializers.ValidationError as error:  # resolve_start's "start or local_start"
            refusal = ValidationFailed("Choose a time from the list.", errors={"start": error_messages(error.detail)})
            return panel(request, appointment, status=400, error=refusal)
        except ApplicationError as error:
            return panel(request, appointment, status=error.http_status, error=error)
        return _changed(request, appointment, "Moved.")
    day = parse_day(request.GET.get("date"), default=appointment.start.astimezone(zone).date())
    window_start = datetime.combine(day, time.min, tzinfo=zone)
    slots = availability_search(
        AvailabilityQuery(
            location=appointment.location, service_type=appointment.service_type, window_start=window_start,
            window_end=window_start + timedelta(days=1), patient=appointment.patient,
        )
    )  # fmt: skip
    return panel(request, appointment, slots=slots, slot_day=day)
