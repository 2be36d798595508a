"""The accountant's desk: invoices (filtered as the API filters them), an invoice's page with its credit notes,
payments and refunds, and the completed visits still to bill.

Writes go through the API's services and input serializers (CreditNoteInput, RefundInput), once per form key.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from rest_framework import serializers

from backend.errors import ApplicationError, ValidationFailed
from billing import selectors as billing
from billing.api.invoices import CreditNoteInput, InvoiceFilter
from billing.api.payments import RefundInput
from billing.models import Invoice, InvoiceStatus, PaymentMethod
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_create_for_appointments
from billing.services.payments import refund_record
from console.access import actor, allowed, console_page
from console.params import (
    error_messages,
    form_data,
    found_or_404,
    once_per_form,
    parse_optional_day,
    validated,
)
from console.views.patients import patient_matches
from scheduling import selectors
from scheduling.models import Location

PAGE_SIZE = 50
FILTERS = ("status", "location", "number", "from", "to", "patient")


def _zone(locations: list[Location], location: Location | None) -> ZoneInfo:
    """Dates in the filters are the chosen location's days (else the first location's, else the clinic's)."""
    chosen = location or (locations[0] if locations else None)
    return chosen.zone if chosen else ZoneInfo(settings.TIME_ZONE)


def _invoice_query(given: QueryDict, zone: ZoneInfo) -> QueryDict:
    """The console's filter form as the API's InvoiceFilter reads its query: local dates become instants."""
    query = QueryDict(mutable=True)
    for name in ("status", "location", "number"):
        if values := [value for value in given.getlist(name) if value]:
            query.setlist(name, values)
    if issued_from := parse_optional_day(given.get("from"), name="from"):
        query["issued_from"] = datetime.combine(issued_from, time.min, zone).isoformat()
    if issued_to := parse_optional_day(given.get("to"), name="to"):
        query["issued_to"] = datetime.combine(issued_to + timedelta(days=1), time.min, zone).isoformat()
    return query


@console_page("billing")
def invoice_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    locations = list(selectors.locations_for(user).order_by("name"))
    location = next((item for item in locations if str(item.public_id) == request.GET.get("location")), None)
    found = InvoiceFilter(_invoice_query(request.GET, _zone(locations, location)),
                          queryset=billing.invoices_for(user).order_by("-created_at", "-id"))  # fmt: skip
    if not found.is_valid():
        errors = {name: error_messages(detail) for name, detail in found.errors.items()}
        raise ValidationFailed("These filters cannot be used.", errors=errors)
    invoices = found.qs
    if text := request.GET.get("patient", "").strip():
        invoices = invoices.filter(patient__in=patient_matches(user, text))
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = QueryDict(mutable=True)
    for name in FILTERS:
        if values := [value for value in request.GET.getlist(name) if value]:
            kept.setlist(name, values)
    context = {
        "title": "Invoices", "section": "billing", "tab": "invoices", "page": page, "locations": locations,
        "statuses": InvoiceStatus.choices, "given": request.GET, "kept": kept.urlencode(),
    }  # fmt: skip
    return TemplateResponse(request, "console/invoices.html", context)


def invoice_page(request: HttpRequest, invoice: Invoice, status: int = 200, **extra: Any) -> HttpResponse:
    """An invoice with its lines, credit notes, payments and refunds, and what the user may do with it."""
    user = request.user
    fresh = billing.invoices_for(user).get(pk=invoice.pk)
    billing.attach_invoice_details([fresh])
    payments = list(billing.payments_for(user).filter(invoice=fresh).order_by("received_at", "id"))
    context = {
        "title": f"Invoice {fresh.number or '(draft)'}", "section": "billing", "tab": "invoices", "invoice": fresh,
        "payments": payments, "can_issue": fresh.is_draft and allowed(user, "write_invoices"),
        "can_credit": not fresh.is_draft and fresh.status != InvoiceStatus.VOID and allowed(user, "write_invoices"),
        "can_pay": not fresh.is_draft and fresh.balance > 0 and allowed(user, "take_payments"),  # type: ignore[attr-defined]
        "can_refund": allowed(user, "refund"), "payment_methods": PaymentMethod.choices, "key": uuid.uuid4().hex,
        **extra,
    }  # fmt: skip
    return TemplateResponse(request, "console/invoice.html", context, status=status)


@console_page("billing")
def invoice(request: HttpRequest, invoice_id: str) -> HttpResponse:
    return invoice_page(request, found_or_404(billing.invoices_for(request.user), invoice_id, "invoice"))


def _credit_note_data(post: QueryDict) -> dict[str, Any]:
    """The form as CreditNoteInput reads JSON: ``credit-<line id>`` quantities become ``lines``."""
    given = form_data(post)
    data: dict[str, Any] = {key: value for key, value in given.items() if not key.startswith("credit-")}
    lines = [{"line": key.removeprefix("credit-"), "quantity": value}
             for key, value in given.items() if key.startswith("credit-")]  # fmt: skip
    if lines:
        data["lines"] = lines
    return data


@require_POST
@console_page("write_invoices")
def credit_note(request: HttpRequest, invoice_id: str) -> HttpResponse:
    found = found_or_404(billing.invoices_for(request.user), invoice_id, "invoice")
    try:
        values = validated(CreditNoteInput(data=_credit_note_data(request.POST)))
        specs = CreditNoteInput.line_specs(found, values.get("lines", []))

        def perform() -> tuple[int, Any]:
            credit_note_issue(actor=actor(request), invoice=found, reason=values["reason"], lines=specs,
                              amount=values.get("amount"))  # fmt: skip
            return 201, {}

        once_per_form(request, actor(request), f"console.invoices.{found.pk}.credit-notes", perform)
    except ApplicationError as error:
        return invoice_page(request, found, error.http_status, error=error)
    except serializers.ValidationError as error:  # a line that is not this invoice's: the API's own 400
        refusal = ValidationFailed(" ".join(error_messages(error.detail)))
        return invoice_page(request, found, 400, error=refusal)
    return redirect("console:invoice", invoice_id=found.public_id)


@require_POST
@console_page("refund")
def refund(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = found_or_404(billing.payments_for(request.user), payment_id, "payment")
    if payment.invoice is None:  # a deposit: refunded from the patient's page in the API, not here
        raise Http404("No such payment.")
    invoice = payment.invoice
    try:
        values = validated(RefundInput(data=form_data(request.POST)))

        def perform() -> tuple[int, Any]:
            refund_record(actor=actor(request), payment=payment, amount=values["amount"], reason=values["reason"])
            return 201, {}

        once_per_form(request, actor(request), f"console.payments.{payment.pk}.refunds", perform)
    except ApplicationError as error:
        return invoice_page(request, invoice, error.http_status, error=error)
    return redirect("console:invoice", invoice_id=invoice.public_id)


@console_page("write_invoices")
def to_bill(request: HttpRequest) -> HttpResponse:
    """GET: completed visits no invoice bills yet, by patient and location; POST: draft one invoice for some."""
    user = request.user
    visits = billing.unbilled_visits(selectors.appointments_for(user)).order_by("patient__last_name", "start")
    if request.method == "POST":
        chosen = list(visits.filter(public_id__in=_uuids(request.POST.getlist("visit"))))
        if not chosen:
            error = ValidationFailed("Choose at least one completed visit to bill.")
            return _to_bill_page(request, visits, status=400, error=error)
        first = chosen[0]
        try:
            draft = invoice_create_for_appointments(actor=actor(request), patient=first.patient,
                                                    location=first.location, appointments=chosen)  # fmt: skip
        except ApplicationError as error:
            return _to_bill_page(request, visits, status=error.http_status, error=error)
        return redirect("console:invoice", invoice_id=draft.public_id)
    return _to_bill_page(request, visits)


def _uuids(values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


def _to_bill_page(request: HttpRequest, visits: Any, status: int = 200, **extra: Any) -> HttpResponse:
    groups: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for visit in visits.select_related("patient", "location", "service_type")[:500]:
        groups[(visit.patient_id, visit.location_id)].append(visit)
    context = {"title": "To bill", "section": "billing", "tab": "to-bill", "groups": list(groups.values()), **extra}
    return TemplateResponse(request, "console/to_bill.html", context, status=status)
