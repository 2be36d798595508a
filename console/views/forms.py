"""Check-in forms: the patient's, behind the signed link in their messages (no sign-in), and a clinician's
entry of a patient's answers at check-in. Both score through ``outcomes.services.measures`` and show the
crisis guidance at once when an answer raises a safety alert."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from backend.audit import audit_record, client_ip
from backend.errors import ValidationFailed
from backend.transactions import request_transaction
from console.access import actor, console_page
from console.params import found_or_404
from outcomes.due import DueStatus, patient_due_measures
from outcomes.links import patient_for_form_token
from outcomes.models import Instrument, Measure, MeasureSource, SafetyAlert
from outcomes.selectors import current_instrument, instruments_for
from outcomes.services.measures import measure_record
from outcomes.services.safety import crisis_guidance
from scheduling import selectors
from scheduling.links import InvalidLink
from scheduling.models import Appointment, Patient


@dataclass(frozen=True)
class Form:
    instrument: Instrument
    appointment: Appointment | None  # the visit it is due before, if any


def due_forms(patient: Patient) -> list[Form]:
    """The forms whose window is open and unanswered, one per instrument, at the clinic's current version."""
    forms: dict[str, Form] = {}
    for item in patient_due_measures(patient):
        if item.status == DueStatus.DUE and item.instrument not in forms:
            instrument = current_instrument(patient.group_id, item.instrument)
            if instrument is not None:
                forms[item.instrument] = Form(instrument, item.appointment)
    return list(forms.values())


def answers_from(request: HttpRequest, instrument: Instrument) -> list[object]:
    """The chosen value of each item (``item_<n>``), or ValidationFailed naming the first unanswered one."""
    answers: list[object] = []
    for item in instrument.items.all():
        raw = request.POST.get(f"item_{item.number}", "")
        if not raw:
            raise ValidationFailed(f"Please answer every question: question {item.number} has no answer.",
                                   errors={f"answers.{item.number}": ["No answer."]})  # fmt: skip
        answers.append(int(raw) if raw.isdigit() and len(raw) < 4 else raw)
    return answers


def chosen_form(request: HttpRequest, forms: list[Form]) -> Form | None:
    """The form the post names (``instrument``: the version's id), among those shown."""
    return next((form for form in forms if str(form.instrument.public_id) == request.POST.get("instrument")), None)


def _recorded(measure: Measure) -> dict[str, object]:
    """What the page says after a form is in: the guidance first when an answer raised an alert."""
    alert = SafetyAlert.objects.filter(measure=measure).select_related("location").first()
    return {"saved": measure, "guidance": crisis_guidance(alert.location) if alert else ""}


@require_http_methods(["GET", "POST"])
def check_in_form(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's due forms. GET shows them; each POST records one form (nothing else changes)."""
    context: dict[str, object] = {"title": "Check-in form"}
    try:
        patient = patient_for_form_token(token)
    except InvalidLink as error:
        return render(request, "console/check_in_form.html", {**context, "error": str(error)}, status=400)
    forms = due_forms(patient)
    context |= {"patient": patient, "forms": forms}
    if request.method != "POST":
        return render(request, "console/check_in_form.html", context)
    chosen = chosen_form(request, forms)
    if chosen is None:
        return render(request, "console/check_in_form.html", {**context, "error": "This form is not due now."},
                      status=409)  # fmt: skip

    def submit() -> HttpResponse:
        try:
            measure = measure_record(
                actor=None, patient=patient, instrument=chosen.instrument, source=MeasureSource.PATIENT,
                answers=answers_from(request, chosen.instrument), appointment=chosen.appointment,
            )  # fmt: skip
        except ValidationFailed as error:
            return render(request, "console/check_in_form.html", {**context, "error": error.detail}, status=400)
        audit_record(actor=None, action="check-in form", object_type="measure", object_id=str(measure.public_id),
                     patient_id=patient.public_id, ip=client_ip(request), details={"via": "link"})  # fmt: skip
        return render(request, "console/check_in_form.html", {**context, **_recorded(measure),
                                                                "forms": due_forms(patient)})  # fmt: skip

    return request_transaction(submit)


@console_page("clinical")
def visit_forms(request: HttpRequest, visit_id: str) -> HttpResponse:
    """A clinician enters a patient's answers at check-in: the forms due now first, any other on request."""
    visit = found_or_404(selectors.appointments_for(request.user).select_related("patient"), visit_id, "visit")
    patient = visit.patient
    due = due_forms(patient)
    others = [item for item in instruments_for(request.user) if item.code not in {form.instrument.code for form in due}]
    context: dict[str, object] = {"title": "Check-in forms", "section": "patients", "visit": visit,
                                  "patient": patient, "forms": due, "others": others}  # fmt: skip
    wanted = request.GET.get("instrument") or request.POST.get("instrument", "")
    extra = next((item for item in others if wanted in (item.code, str(item.public_id))), None)
    if extra is not None:
        context["forms"] = [*due, Form(extra, visit)]
    if request.method == "POST":
        forms: list[Form] = context["forms"]  # type: ignore[assignment]
        chosen = chosen_form(request, forms)
        if chosen is None:
            raise ValidationFailed("Choose a form to enter.", errors={"instrument": ["Not one of the forms shown."]})
        try:
            measure = measure_record(
                actor=actor(request), patient=patient, instrument=chosen.instrument,
                answers=answers_from(request, chosen.instrument), appointment=visit, source=MeasureSource.STAFF,
            )  # fmt: skip
        except ValidationFailed as error:
            return TemplateResponse(request, "console/visit_forms.html", {**context, "error": error.detail}, status=400)
        context |= _recorded(measure)
        context["forms"] = due_forms(patient)
    return TemplateResponse(request, "console/visit_forms.html", context)
