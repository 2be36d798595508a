"""Issued invoices and money records are immutable in the model layer and in the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from backend.errors import problem_for_exception
from billing.errors import InvoiceImmutable
from billing.models import Invoice, InvoiceLine, Payment
from tests.billing.conftest import issued_invoice, pay
from tests.scheduling.conftest import Clinic


def _sql(statement: str, params: list[int]) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    return caught.value


def test_the_database_refuses_to_change_an_issued_invoice_its_lines_or_to_delete_it(billing_clinic: Clinic) -> None:
    invoice = issued_invoice(billing_clinic)
    line = invoice.lines.first()
    assert line is not None

    refusals = [
        _sql("UPDATE billing_invoice SET total = 1 WHERE id = %s", [invoice.pk]),
        _sql("UPDATE billing_invoice SET status = 'draft', number = NULL WHERE id = %s", [invoice.pk]),
        _sql("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk]),
        _sql("UPDATE billing_invoiceline SET unit_price = 1 WHERE id = %s", [line.pk]),
        _sql("DELETE FROM billing_invoiceline WHERE id = %s", [line.pk]),
    ]

    for error in refusals:
        status, body = problem_for_exception(error) or (None, {})
        assert (status, body["code"]) == (409, "invoice_immutable")
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("450.00")


def test_the_database_refuses_lines_added_to_an_issued_invoice(billing_clinic: Clinic) -> None:
    invoice = issued_invoice(billing_clinic)

    error = _sql(
        "INSERT INTO billing_invoiceline (public_id, invoice_id, position, description, code, modifier, ndc, "
        "ndc_units, quantity, unit_price, tax_rate, amount, tax, total) VALUES (gen_random_uuid(), %s, 9, 'x', "
        "'', '', '', '', 1, 1, 0, 1, 0, 1)",
        [invoice.pk],
    )

    assert "invoice_immutable" in str(error)
    assert invoice.lines.count() == 3


def test_the_models_refuse_the_same_changes(billing_clinic: Clinic) -> None:
    invoice = Invoice.objects.get(pk=issued_invoice(billing_clinic).pk)
    line = InvoiceLine.objects.filter(invoice=invoice).first()
    assert line is not None

    invoice.total = Decimal(1)
    with pytest.raises(InvoiceImmutable):
        invoice.save()
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.get(pk=invoice.pk).delete()
    line.unit_price = Decimal(1)
    with pytest.raises(InvoiceImmutable):
        line.save()


def test_payments_are_append_only(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    invoice = issued_invoice(clinic)
    pay(clinic.client(clinic.reception), invoice, "100.00")
    payment = Payment.objects.get()

    update = _sql("UPDATE billing_payment SET amount = 1 WHERE id = %s", [payment.pk])
    delete = _sql("DELETE FROM billing_paymentallocation WHERE payment_id = %s", [payment.pk])

    assert "record_immutable" in str(update)
    assert "record_immutable" in str(delete)
    assert Payment.objects.get().amount == Decimal("100.00")


def test_a_draft_stays_editable_in_the_database(billing_clinic: Clinic) -> None:
    clinic = billing_clinic
    draft = Invoice.objects.create(location=clinic.location, patient=clinic.patient, currency="USD")

    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_invoice SET notes = 'ok' WHERE id = %s", [draft.pk])

    assert Invoice.objects.get(pk=draft.pk).notes == "ok"
