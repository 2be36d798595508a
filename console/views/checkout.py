"""Check-out after a visit: its invoice (drafted and issued by those who write invoices), a payment against it,
and the receipt, whose link appears when the worker has rendered it.

The same services and input serializers as the API's invoice and payment routes; the same role predicates.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from backend.errors import ApplicationError
from billing import selectors as billing
from billing.api.payments import PaymentInput
from billing.models import Invoice, PaymentMethod
from billing.services.invoices import invoice_create_for_appointments, invoice_issue
from billing.services.payments import payment_record
from console.access import actor, allowed, console_page
from console.params import form_data, found_or_404, once_per_form, validated
from scheduling import selectors
from scheduling.models import Appointment, AppointmentStatus


def checkout_context(request: HttpRequest, visit: Appointment) -> dict[str, Any]:
    """What the visit panel shows of its money, for billing staff (nothing for the others)."""
    user = request.user
    if visit.status != AppointmentStatus.COMPLETED or not allowed(user, "billing"):
        return {}
    invoices = list(billing.invoices_for(user).filter(lines__appointment=visit).distinct().order_by("created_at"))
    payments = list(billing.payments_for(user).filter(invoice__in=invoices).order_by("received_at"))
    return {
        "checkout": {
            "invoices": invoices,
            "payments": payments,
            "can_draft": not invoices and allowed(user, "write_invoices"),
            "can_issue": allowed(user, "write_invoices"),
            "can_pay": allowed(user, "take_payments"),
            "payment_key": uuid.uuid4().hex,
        },
        "payment_methods": PaymentMethod.choices,
    }


def _back(request: HttpRequest, invoice: Invoice, status: int = 200, **extra: Any) -> HttpResponse:
    """Where the form was posted from: the visit's panel (``back=panel``), else the invoice's page."""
    from console.views.billing import invoice_page  # the invoice page's views import checkout_context
    from console.views.visits import panel  # visits imports checkout_context from here

    if request.POST.get("back") == "panel":
        visit = selectors.appointments_for(request.user).filter(invoice_lines__invoice=invoice).first()
        if visit is not None:
            if extra or request.htmx:  # type: ignore[attr-defined]
                return panel(request, visit, status, **extra)
            return redirect("console:visit", visit_id=visit.public_id)
    if extra:
        return invoice_page(request, invoice, status, **extra)
    return redirect("console:invoice", invoice_id=invoice.public_id)


@require_POST
@console_page("write_invoices")
def invoice_draft(request: HttpRequest, visit_id: str) -> HttpResponse:
    """A draft invoice for one completed visit, from its panel."""
    from console.views.visits import panel

    visit = found_or_404(selectors.appointments_for(request.user), visit_id, "visit")
    try:
        invoice_create_for_appointments(actor=actor(request), patient=visit.patient, location=visit.location,
                                        appointments=[visit])  # fmt: skip
    except ApplicationError as error:
        return panel(request, visit, error.http_status, error=error)
    if request.htmx:  # type: ignore[attr-defined]
        return panel(request, visit)
    return redirect("console:visit", visit_id=visit.public_id)


@require_POST
@console_page("write_invoices")
def invoice_issue_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = found_or_404(billing.invoices_for(request.user), invoice_id, "invoice")
    try:
        invoice_issue(actor=actor(request), invoice=invoice)
    except ApplicationError as error:
        return _back(request, invoice, error.http_status, error=error)
    return _back(request, invoice)


@require_POST
@console_page("take_payments")
def invoice_payment(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = found_or_404(billing.invoices_for(request.user), invoice_id, "invoice")
    try:
        values = validated(PaymentInput(data=form_data(request.POST)))

        def perform() -> tuple[int, Any]:
            payment = payment_record(actor=actor(request), invoice=invoice, amount=values["amount"],
                                     method=values["method"], reference=values["reference"])  # fmt: skip
            return 201, {"payment": str(payment.public_id)}

        once_per_form(request, actor(request), f"console.invoices.{invoice.pk}.payments", perform)
    except ApplicationError as error:
        return _back(request, invoice, error.http_status, error=error)
    return _back(request, invoice)


@console_page("billing")
def receipt_status(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The receipt's state, polled by the panel until the worker has rendered it."""
    payment = found_or_404(billing.payments_for(request.user), payment_id, "payment")
    return TemplateResponse(request, "console/_receipt.html", {"payment": payment})
