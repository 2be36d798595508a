"""The billing admin: accountants see their clinic's money records, issue drafts, and cannot alter issued ones."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client
from django.urls import reverse

from billing.models import Document, Invoice, Payment
from billing.services.invoices import LineSpec, invoice_create
from tests.billing.conftest import issued_invoice, pay
from tests.scheduling.conftest import Clinic


def _browser(clinic: Clinic) -> Client:
    clinic.accountant.is_staff = True
    clinic.accountant.save()
    browser = Client()
    browser.force_login(clinic.accountant)
    return browser


def test_an_accountant_reads_invoices_payments_credit_notes_and_documents(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    pay(clinic.client(clinic.reception), invoice, "100.00")
    clinic.client(clinic.accountant).post(f"/api/v1/invoices/{invoice.public_id}/credit-notes/",
                                          {"amount": "10.00", "reason": "Discount"}, format="json")  # fmt: skip
    browser = _browser(clinic)

    records = {"invoice": invoice, "payment": Payment.objects.get(), "creditnote": invoice.credit_notes.get(),
               "document": Document.objects.first()}  # fmt: skip
    for name, obj in records.items():
        assert browser.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
        assert browser.get(reverse(f"admin:billing_{name}_change", args=[obj.pk])).status_code == 200  # type: ignore[union-attr]
    assert browser.get(reverse("admin:billing_invoice_delete", args=[invoice.pk])).status_code == 403
    assert browser.get(reverse("admin:billing_payment_add")).status_code == 403


def test_the_issue_action_numbers_drafts_through_the_service(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    line = LineSpec(description="Consult", quantity=Decimal(1), unit_price=Decimal(100))
    draft = invoice_create(actor=None, patient=clinic.patient, location=clinic.location, lines=[line])

    response = _browser(clinic).post(reverse("admin:billing_invoice_changelist"),
                                     {"action": "issue_drafts", "_selected_action": [draft.pk]})  # fmt: skip

    assert response.status_code == 302
    assert Invoice.objects.get(pk=draft.pk).number == "INV-2026-00001"
