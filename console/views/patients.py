"""Finding a patient, and a patient's page: contact, consent, clearance, visits, series, money, reminders."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from billing import selectors as billing
from console.access import allowed, console_page
from console.params import found_or_404
from outcomes import selectors as outcomes
from outcomes.due import patient_due_measures
from outcomes.models import AlertStatus
from outcomes.summary import patient_outcomes
from scheduling import selectors
from scheduling.errors import NotCleared
from scheduling.models import Appointment, AppointmentStatus, Patient, Reminder, ReminderKind
from scheduling.services.clearance import ensure_cleared, latest_clearance
from scheduling.services.series import series_status

RESULTS = 20


def patient_matches(user: object, text: str) -> QuerySet[Patient]:
    """Patients whose name, date of birth (YYYY-MM-DD) or phone digits match ``text``."""
    text = "".join(ch for ch in text if ch.isprintable()).strip()[:100]  # NUL and other controls match nothing
    found = selectors.patients_for(user).order_by("last_name", "first_name", "pk")
    if not text:
        return found.none()
    try:
        return found.filter(date_of_birth=date.fromisoformat(text))
    except ValueError:
        pass
    query = Q()
    for word in text.split():
        query &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        query |= Q(phone__contains=digits)
    return found.filter(query)


@console_page("staff")
def patient_search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    patients = list(patient_matches(request.user, text)[:RESULTS])
    template = "console/_patient_results.html" if request.htmx else "console/patients.html"  # type: ignore[attr-defined]
    return TemplateResponse(
        request, template, {"title": "Patients", "section": "patients", "patients": patients, "q": text,
                            "pick": request.htmx and request.GET.get("pick") != "link"},  # type: ignore[attr-defined]
    )  # fmt: skip


def cleared_for(visit: Appointment) -> bool:
    """Whether the patient's clearance covers this visit: the booking's own rule (``ensure_cleared``)."""
    if visit.status not in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
        return True
    try:
        ensure_cleared(visit.patient, visit.service_type, visit.start, visit.location)
    except NotCleared:
        return False
    return True


@console_page("staff")
def patient(request: HttpRequest, patient_id: str) -> HttpResponse:
    user = request.user
    record = found_or_404(selectors.patients_for(user), patient_id, "patient")
    now = timezone.now()
    visits = list(selectors.appointments_for(user).filter(patient=record).order_by("start"))
    series = list(selectors.series_for(user).filter(patient=record).prefetch_related("appointments"))
    clearance = latest_clearance(record.pk)
    context = {
        "title": f"{record.first_name} {record.last_name}",
        "section": "patients",
        "patient": record,
        "clearance": clearance,
        "clearance_lapses": [visit for visit in visits if visit.start > now and not cleared_for(visit)],
        "upcoming": [visit for visit in visits if visit.hold_until >= now],
        "past": [visit for visit in reversed(visits) if visit.hold_until < now],
        "series": [(item, series_status(item, list(item.appointments.all()))) for item in series],
        "reminders": Reminder.objects.filter(patient=record)
        .exclude(kind=ReminderKind.STAFF_NOTICE)  # staff's own messages (safety alerts to the on-call clinician)
        .order_by("-due_at")[:20],
    }  # fmt: skip
    if allowed(user, "clinical"):
        context["safety_alerts"] = outcomes.safety_alerts_for(user).filter(patient=record, status=AlertStatus.OPEN)
        measures = outcomes.measures_for(user).filter(patient=record)
        context["outcomes"] = patient_outcomes(measures)
        context["letters"] = outcomes.letters_for(user).filter(patient=record).select_related("provider")[:50]
    if allowed(user, "follow_up"):
        context["due"] = patient_due_measures(record)
        context["suggestion"] = outcomes.suggestions_for(user).filter(patient=record, status="open").first()
    if allowed(user, "billing"):
        invoices = list(billing.invoices_for(user).filter(patient=record).order_by("-created_at")[:50])
        context["invoices"] = billing.attach_invoice_details(invoices)
        context["payments"] = billing.payments_for(user).filter(patient=record).order_by("-received_at")[:50]
    return TemplateResponse(request, "console/patient.html", context)
