"""The treatment loop on the patient's page: acknowledge a safety alert, book or dismiss a suggested booster.

Each form does what its API request does, through the same service and the same rule.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backend.throttling import BookingThrottle
from console.access import actor, console_page
from console.params import form_data, found_or_404, validated
from outcomes import selectors
from outcomes.api import AcknowledgeInput, DismissInput, SuggestionBookInput
from outcomes.services.maintenance import suggestion_book, suggestion_dismiss
from outcomes.services.safety import safety_alert_acknowledge


@require_POST
@console_page("clinical")
def alert_acknowledge(request: HttpRequest, alert_id: str) -> HttpResponse:
    alert = found_or_404(selectors.safety_alerts_for(request.user), alert_id, "safety alert")
    data = validated(AcknowledgeInput(data=form_data(request.POST)))
    safety_alert_acknowledge(actor=actor(request), alert=alert, note=data["note"])
    return redirect("console:patient", patient_id=alert.patient.public_id)


@require_POST
@console_page("booking", limit=BookingThrottle)
def suggestion_book_view(request: HttpRequest, suggestion_id: str) -> HttpResponse:
    suggestion = found_or_404(selectors.suggestions_for(request.user), suggestion_id, "suggestion")
    data = validated(SuggestionBookInput(data=form_data(request.POST), context={"request": request}))
    booked = suggestion_book(
        actor=actor(request), suggestion=suggestion, first_date=data.get("first_date"), local_time=data.get("time"),
        service_type=data.get("service_type"), accept_alternatives=data["accept_alternatives"],
    )  # fmt: skip
    assert booked.appointment is not None  # noqa: S101 - a booked suggestion has its visit
    return redirect("console:visit", visit_id=booked.appointment.public_id)


@require_POST
@console_page("follow_up")
def suggestion_dismiss_view(request: HttpRequest, suggestion_id: str) -> HttpResponse:
    suggestion = found_or_404(selectors.suggestions_for(request.user), suggestion_id, "suggestion")
    data = validated(DismissInput(data=form_data(request.POST)))
    suggestion_dismiss(actor=actor(request), suggestion=suggestion, reason=data["reason"])
    return redirect("console:patient", patient_id=suggestion.patient.public_id)
