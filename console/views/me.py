"""The patient's own pages: upcoming visits with their preparation, confirm or cancel, and money documents.

Times are shown in the patient's own time zone. Every record is read through the selectors scoped to the
patient's login, so another patient's visit is a 404 whatever the URL says. Confirm and cancel are the
API's transitions, under the API's predicates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.errors import ApplicationError
from backend.models import DocumentStatus
from backend.throttling import BookingThrottle
from billing import selectors as billing
from billing.models import DocumentKind
from billing.selectors import policy_for
from console.access import actor, allowed, console_page, refused
from console.params import found_or_404
from console.views.waitlist import self_join_context
from scheduling import selectors
from scheduling.models import Appointment, AppointmentStatus, Patient
from scheduling.services.transitions import appointment_transition, is_late_cancellation, possible_actions

PATIENT_ACTIONS = {"confirm": "Confirm this visit", "cancel": "Cancel this visit"}


def _patient(request: HttpRequest) -> Patient:
    patient = selectors.patients_for(request.user).first()
    if patient is None:
        raise Http404("No patient record is linked to this login; please call the clinic.")
    return patient


def _preparation(visit: Appointment) -> dict[str, Any]:
    """What the patient must do before the visit, from its service's rules."""
    service = visit.service_type
    return {
        "fasting_from": visit.start - timedelta(hours=service.fasting_hours) if service.fasting_hours else None,
        "arrive_by": visit.start - timedelta(minutes=service.arrive_early_minutes),
        "driver": service.requires_driver,
        "instructions": service.prep_instructions,
    }


def _visit_context(request: HttpRequest, visit: Appointment) -> dict[str, Any]:
    now = timezone.now()
    possible = possible_actions(visit, now)
    policy = policy_for(visit.location)
    return {
        "visit": visit,
        "prep": _preparation(visit),
        "actions": [
            {"name": name, "label": label}
            for name, label in PATIENT_ACTIONS.items()
            if name in possible and possible[name] is None and allowed(request.user, f"transition:{name}")
        ],
        "window_hours": visit.location.cancellation_window_hours,
        "late_now": is_late_cancellation(visit, now),
        "late_fee": policy.late_cancellation_fee,
    }


@console_page("patient")
def me(request: HttpRequest) -> HttpResponse:
    patient = _patient(request)
    now = timezone.now()
    visits = (
        selectors.appointments_for(request.user)
        .filter(hold_until__gte=now)
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .order_by("start")
    )
    payments = list(billing.payments_for(request.user).order_by("-received_at")[:50])
    context = {
        "title": "My visits",
        "section": "me",
        "patient": patient,
        "upcoming": [_visit_context(request, visit) for visit in visits],
        "invoices": billing.invoices_for(request.user).order_by("-issued_at")[:50],
        "payments": payments,
        "superbills": billing.documents_for(request.user)
        .filter(kind=DocumentKind.SUPERBILL, status=DocumentStatus.DONE)
        .order_by("-period_end"),
        "done": request.GET.get("done") in (*PATIENT_ACTIONS, "waitlist", "left") and request.GET.get("done"),
        **self_join_context(patient),
    }
    return TemplateResponse(request, "console/me.html", context)


def _own_visit(request: HttpRequest, visit_id: str) -> Appointment:
    return found_or_404(selectors.appointments_for(request.user), visit_id, "visit")


@console_page("patient")
def my_visit(request: HttpRequest, visit_id: str) -> HttpResponse:
    visit = _own_visit(request, visit_id)
    context = {"title": "My visit", "section": "me", "patient": _patient(request), **_visit_context(request, visit)}
    return TemplateResponse(request, "console/my_visit.html", context)


@require_POST
@console_page("patient", limit=BookingThrottle)
def my_visit_action(request: HttpRequest, visit_id: str, action: str) -> HttpResponse:
    if action not in PATIENT_ACTIONS:
        raise Http404("No such action.")
    if not allowed(request.user, f"transition:{action}"):
        return refused(request)
    visit = _own_visit(request, visit_id)
    try:
        appointment_transition(actor=actor(request), appointment=visit, action=action,
                               reason=request.POST.get("reason", ""))  # fmt: skip
    except ApplicationError as error:
        context = {"title": "My visit", "section": "me", "patient": _patient(request), "error": error,
                   **_visit_context(request, visit)}  # fmt: skip
        return TemplateResponse(request, "console/my_visit.html", context, status=error.http_status)
    return redirect(f"{reverse('console:me')}?done={action}")
