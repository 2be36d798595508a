"""Hypothesis over lines, quantities, prices, taxes, payments, refunds and credit notes: everything reconciles."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.errors import ApplicationError
from backend.money import MoneyTypeError
from billing.models import Invoice, Payment, PaymentAllocation, Refund
from billing.money import ensure_amount, line_amounts
from billing.selectors import invoice_amounts, patient_credit, with_payment_amounts
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import LineSpec, invoice_create, invoice_issue
from billing.services.payments import payment_record, refund_record
from billing.services.settlement import status_for
from tests.factories import PatientFactory
from tests.scheduling.conftest import Clinic

CENT = Decimal("0.01")
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(100), places=3)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(5000), places=2)
tax_rates = st.one_of(st.sampled_from([Decimal(0), Decimal("0.05"), Decimal("0.0825"), Decimal("0.2")]),
                      st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4))  # fmt: skip
lines = st.lists(st.tuples(quantities, prices, tax_rates), min_size=1, max_size=6)
amounts = st.decimals(min_value=CENT, max_value=Decimal(3000), places=2)
operations = st.lists(
    st.tuples(st.sampled_from(["pay", "credit", "refund"]), amounts, st.integers(min_value=0, max_value=5)),
    max_size=8,
)


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _assert_reconciles(invoice: Invoice) -> None:
    amounts = invoice_amounts(invoice.pk)
    assert amounts.paid + amounts.credited + amounts.balance == amounts.total
    assert amounts.balance >= 0
    assert amounts.paid >= 0
    assert Invoice.objects.get(pk=invoice.pk).status == status_for(
        total=amounts.total, credited=amounts.credited, paid=amounts.paid
    )
    payments = with_payment_amounts(Payment.objects.filter(patient_id=invoice.patient_id))
    for payment in payments:
        assert payment.unapplied >= 0  # type: ignore[attr-defined]
        assert payment.amount == payment.applied + payment.refunded + payment.unapplied  # type: ignore[attr-defined]
    received = sum((payment.amount for payment in payments), Decimal(0))
    allocated = sum(PaymentAllocation.objects.filter(invoice=invoice).values_list("amount", flat=True), Decimal(0))
    refunded = sum(Refund.objects.filter(payment__patient_id=invoice.patient_id).values_list("amount", flat=True),
                   Decimal(0))  # fmt: skip
    assert patient_credit(patient_id=invoice.patient_id, currency="USD") == received - allocated - refunded


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=lines, steps=operations)
def test_totals_are_sums_of_rounded_lines_and_balances_reconcile_to_the_cent(
    clinic: Clinic, specs: list[tuple[Decimal, Decimal, Decimal]], steps: list[tuple[str, Decimal, int]]
) -> None:
    # given an issued invoice of random lines for a fresh patient
    patient = PatientFactory(group=clinic.group)
    invoice = invoice_create(
        actor=None, patient=patient, location=clinic.location,
        lines=[LineSpec(description="x", quantity=q, unit_price=p, tax_rate=r) for q, p, r in specs],
    )  # fmt: skip
    expected = sum((_half_up(q * p) + _half_up(_half_up(q * p) * r) for q, p, r in specs), Decimal(0))
    assert invoice.total == expected
    assert sum((line.total for line in invoice.lines.all()), Decimal(0)) == expected
    if expected == 0:
        return
    invoice_issue(actor=None, invoice=invoice)

    # when random payments, credit notes and refunds happen, then everything reconciles after each
    for operation, amount, pick in steps:
        before = (invoice_amounts(invoice.pk), Payment.objects.count(), Refund.objects.count())
        refused = None
        try:
            if operation == "pay":
                payment_record(actor=None, invoice=invoice, amount=amount, method="card")
            elif operation == "credit":
                credit_note_issue(actor=None, invoice=invoice, reason="correction", amount=amount)
            else:
                payments = list(Payment.objects.filter(patient=patient).order_by("id"))
                if payments:
                    refund_record(actor=None, payment=payments[pick % len(payments)], amount=amount, reason="r")
        except ApplicationError as error:  # refused steps (too large, void, paid) must change nothing
            refused = error.http_status
        if refused is not None:
            assert refused in (409, 422)
            assert (invoice_amounts(invoice.pk), Payment.objects.count(), Refund.objects.count()) == before
        _assert_reconciles(invoice)


@given(amount=st.floats(allow_nan=False, allow_infinity=False))
def test_no_float_reaches_a_money_path(amount: float) -> None:
    with pytest.raises(MoneyTypeError):
        ensure_amount(amount, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyTypeError):
        line_amounts(quantity=Decimal(1), unit_price=amount, tax_rate=Decimal(0), currency="USD")  # type: ignore[arg-type]
