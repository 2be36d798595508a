"""Invoices through the API: drafts from visits, issuing, payments, credit notes, immutability, bad input."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Invoice, PaymentAllocation
from billing.selectors import patient_credit
from tests.billing.conftest import MONDAY, bill_visits, completed_visit, issued_invoice, pay
from tests.scheduling.conftest import Clinic


def test_an_accountant_bills_a_completed_infusion_from_the_fee_schedule_and_issues_it(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    visit = completed_visit(clinic)
    client = clinic.client(clinic.accountant)

    draft = bill_visits(client, clinic, visit)

    assert draft.status_code == 201, draft.json()
    body = draft.json()
    assert body["status"] == "draft"
    assert body["number"] is None
    assert [(line["code"], line["modifier"], line["amount"]) for line in body["lines"]] == [
        ("96365", "", "300.00"), ("J3490", "", "50.00"), ("99214", "25", "100.00"),
    ]  # fmt: skip
    assert body["lines"][1]["ndc"] == "42023-0113-10"
    assert body["lines"][0]["service_date"] == "2026-10-05"
    assert (body["total"], body["balance"], body["currency"]) == ("450.00", "450.00", "USD")

    issued = client.post(f"/api/v1/invoices/{body['id']}/issue/")

    assert issued.status_code == 200, issued.json()
    assert issued.json()["number"] == "INV-2026-00001"
    assert issued.json()["status"] == "issued"
    assert issued.json()["pdf"]["status"] == "pending"


def test_partial_payment_then_overpayment_leaves_a_paid_invoice_and_patient_credit(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    reception = clinic.client(clinic.reception)

    first = pay(reception, invoice, "200.00", reference="visa 4242")
    assert first.status_code == 201, first.json()
    assert first.json()["receipt"]["status"] == "pending"
    assert Invoice.objects.get(pk=invoice.pk).status == "partially_paid"

    second = pay(reception, invoice, "300.00", method="cash")

    assert second.status_code == 201, second.json()
    assert (second.json()["applied"], second.json()["unapplied"]) == ("250.00", "50.00")
    detail = reception.get(f"/api/v1/invoices/{invoice.public_id}/").json()
    assert (detail["status"], detail["paid"], detail["balance"]) == ("paid", "450.00", "0.00")
    assert patient_credit(patient_id=clinic.patient.pk, currency="USD") == Decimal("50.00")


def test_credit_on_account_is_applied_when_the_next_invoice_is_issued(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    reception = clinic.client(clinic.reception)
    deposit = reception.post("/api/v1/payments/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id), "amount": "100.00",
        "method": "card",
    }, format="json")  # fmt: skip
    assert deposit.status_code == 201, deposit.json()
    assert deposit.json()["is_deposit"] is True

    invoice = issued_invoice(clinic)

    detail = reception.get(f"/api/v1/invoices/{invoice.public_id}/").json()
    assert (detail["status"], detail["paid"], detail["balance"]) == ("partially_paid", "100.00", "350.00")
    assert patient_credit(patient_id=clinic.patient.pk, currency="USD") == 0


def test_credit_note_on_lines_reduces_the_balance_and_a_full_credit_voids(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    accountant = clinic.client(clinic.accountant)
    drug_line = invoice.lines.get(code="J3490")

    partial = accountant.post(f"/api/v1/invoices/{invoice.public_id}/credit-notes/", {
        "lines": [{"line": str(drug_line.public_id), "quantity": "1"}], "reason": "Drug not administered",
    }, format="json")  # fmt: skip

    assert partial.status_code == 201, partial.json()
    assert (partial.json()["credited"], partial.json()["balance"]) == ("50.00", "400.00")
    assert partial.json()["credit_notes"][0]["number"] == "CN-2026-00001"

    rest = accountant.post(f"/api/v1/invoices/{invoice.public_id}/credit-notes/",
                           {"amount": "400.00", "reason": "Billed in error"}, format="json")  # fmt: skip

    assert rest.status_code == 201, rest.json()
    assert (rest.json()["status"], rest.json()["balance"]) == ("void", "0.00")
    paid_void = pay(clinic.client(clinic.reception), invoice, "10.00")
    assert paid_void.status_code == 409
    assert paid_void.json()["code"] == "invoice_void"


def test_crediting_a_paid_invoice_returns_the_excess_to_the_patients_credit(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    pay(clinic.client(clinic.reception), invoice, "450.00")

    response = clinic.client(clinic.accountant).post(
        f"/api/v1/invoices/{invoice.public_id}/credit-notes/", {"amount": "100.00", "reason": "Courtesy discount"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    assert (response.json()["paid"], response.json()["balance"], response.json()["status"]) == (
        "350.00", "0.00", "paid",
    )  # fmt: skip
    assert patient_credit(patient_id=clinic.patient.pk, currency="USD") == Decimal("100.00")


def test_a_refund_beyond_the_credit_reopens_the_invoice(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    payment = pay(clinic.client(clinic.reception), invoice, "450.00").json()

    refund = clinic.client(clinic.accountant).post(
        f"/api/v1/payments/{payment['id']}/refunds/", {"amount": "100.00", "reason": "Card charged twice"},
        format="json",
    )  # fmt: skip

    assert refund.status_code == 201, refund.json()
    assert (refund.json()["amount"], refund.json()["reason"]) == ("100.00", "Card charged twice")  # the refund
    assert refund.json()["receipt"]["status"] == "pending"
    assert (refund.json()["payment"]["refunded"], refund.json()["payment"]["applied"]) == ("100.00", "350.00")
    assert Invoice.objects.get(pk=invoice.pk).status == "partially_paid"
    too_much = clinic.client(clinic.accountant).post(
        f"/api/v1/payments/{payment['id']}/refunds/", {"amount": "350.01", "reason": "x"}, format="json"
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund_exceeds_payment"


def test_an_issued_invoice_cannot_be_edited_or_deleted(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    accountant = clinic.client(clinic.accountant)

    edit = accountant.patch(f"/api/v1/invoices/{invoice.public_id}/", {"notes": "changed"}, format="json")
    delete = accountant.delete(f"/api/v1/invoices/{invoice.public_id}/")
    reissue = accountant.post(f"/api/v1/invoices/{invoice.public_id}/issue/")

    for response in (edit, delete, reissue):
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "invoice_immutable"
    assert Invoice.objects.get(pk=invoice.pk).notes == ""


def test_drafts_are_edited_and_deleted_freely(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    accountant = clinic.client(clinic.accountant)
    draft = accountant.post("/api/v1/invoices/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "lines": [{"description": "Integration session", "code": "90837", "unit_price": "180.00"}],
    }, format="json").json()  # fmt: skip

    edited = accountant.patch(f"/api/v1/invoices/{draft['id']}/", {"lines": [
        {"description": "Integration session", "code": "90837", "unit_price": "180.00", "quantity": "2",
         "tax_rate": "0.2"},
    ]}, format="json")  # fmt: skip

    assert edited.status_code == 200, edited.json()
    assert (edited.json()["subtotal"], edited.json()["tax_total"], edited.json()["total"]) == (
        "360.00", "72.00", "432.00",
    )  # fmt: skip
    assert accountant.delete(f"/api/v1/invoices/{draft['id']}/").status_code == 204
    assert not Invoice.objects.filter(public_id=draft["id"]).exists()


def test_bad_money_input_is_refused_and_changes_nothing(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    reception = clinic.client(clinic.reception)
    cases = {
        "-5.00": 422, "0": 422, "10.005": 422, "ten": 400, 12.5: 400, "NaN": 400, "1e400": 400,
    }  # fmt: skip

    for amount, expected in cases.items():
        response = pay(reception, invoice, amount)
        assert response.status_code == expected, (amount, response.json())
        assert response.headers["Content-Type"] == "application/problem+json"
    wrong_currency = pay(reception, invoice, "10.00", currency="EUR")
    bad_method = pay(reception, invoice, "10.00", method="bitcoin")

    assert wrong_currency.status_code == 422
    assert wrong_currency.json()["code"] == "currency_mismatch"
    assert bad_method.status_code == 400
    assert not PaymentAllocation.objects.exists()


def test_paying_a_draft_or_billing_an_open_visit_is_refused(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    accountant = clinic.client(clinic.accountant)
    draft = accountant.post("/api/v1/invoices/", {
        "patient": str(clinic.patient.public_id), "location": str(clinic.location.public_id),
        "lines": [{"description": "Consult", "unit_price": "100.00"}],
    }, format="json").json()  # fmt: skip
    visit = completed_visit(clinic, MONDAY, hour=13)
    bill_visits(accountant, clinic, visit)

    draft_payment = pay(clinic.client(clinic.reception), draft["id"], "10.00")
    twice = bill_visits(accountant, clinic, visit)

    assert draft_payment.status_code == 409
    assert draft_payment.json()["code"] == "invoice_not_issued"
    assert twice.status_code == 422
    assert twice.json()["code"] == "not_billable"


def test_roles_reception_pays_but_does_not_issue_clinicians_see_no_billing(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)

    assert (
        clinic.client(clinic.reception)
        .post(f"/api/v1/invoices/{invoice.public_id}/credit-notes/", {"amount": "1.00", "reason": "x"}, format="json")
        .status_code
        == 403
    )
    assert clinic.client(clinic.clinician).get("/api/v1/invoices/").status_code == 403
    assert clinic.client(clinic.reception).get("/api/v1/invoices/").json()["count"] == 1


def test_the_invoice_list_uses_the_same_number_of_queries_for_any_page_size(billing_clinic: Clinic) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clinic = billing_clinic
    client = clinic.client(clinic.accountant)
    issued_invoice(clinic)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/invoices/").json()["count"] == 1
    for day in (6, 7, 8):
        invoice = issued_invoice(clinic, MONDAY.replace(day=day), patient=clinic.patient2 if day % 2 else None)
        pay(clinic.client(clinic.reception), invoice, "10.00")
    with CaptureQueriesContext(connection) as four:
        assert client.get("/api/v1/invoices/").json()["count"] == 4

    assert len(four) == len(one)
