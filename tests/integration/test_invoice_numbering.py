"""Gapless invoice numbers and race-free payments under real concurrency (threads, separate connections)."""

from __future__ import annotations

import queue
import random
import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connections

import billing.services.invoices as invoice_services
from backend.errors import ApplicationError
from billing.models import Invoice, InvoiceStatus, Payment, PaymentAllocation
from billing.selectors import invoice_amounts, patient_credit
from billing.services.invoices import LineSpec, invoice_create, invoice_issue
from billing.services.payments import payment_record
from tests.factories import LocationFactory, PatientFactory
from tests.scheduling.conftest import NOW, clinic_with_patients

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
WORKERS = 12


class ForcedRollback(Exception):
    pass


def run_workers(items: list[Any], work: Callable[[Any], str]) -> Counter[str]:
    pending: queue.Queue[Any] = queue.Queue()
    for item in items:
        pending.put(item)
    barrier = threading.Barrier(WORKERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def target() -> None:
        barrier.wait()
        try:
            while True:
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = work(item)
                except Exception as error:
                    result = f"error: {type(error).__name__}"
                with lock:
                    outcomes[result] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def test_200_invoices_issued_concurrently_across_two_locations_with_rollbacks_are_numbered_without_gaps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given 200 drafts, half at each of two locations, and 10% of the issuing transactions doomed
    with time_machine.travel(NOW, tick=False):
        clinic, patients = clinic_with_patients(6)
        second = LocationFactory(group=clinic.group, name="Cambridge")
        line = LineSpec(description="Infusion", code="96365", quantity=Decimal(1), unit_price=Decimal("450.00"))
        drafts = [
            invoice_create(actor=None, patient=patients[n % 6], location=(clinic.location, second)[n % 2], lines=[line])
            for n in range(200)
        ]
    doomed = {invoice.pk for invoice in random.Random(7).sample(drafts, 20)}
    real_request = invoice_services.invoice_document_request

    def request_or_fail(*, invoice: Invoice, actor: Any) -> Any:
        if invoice.pk in doomed:
            raise ForcedRollback  # the last step of issuing: everything before it must roll back
        return real_request(invoice=invoice, actor=actor)

    monkeypatch.setattr(invoice_services, "invoice_document_request", request_or_fail)

    # when twelve connections issue them all at once
    def issue(invoice: Invoice) -> str:
        try:
            invoice_issue(actor=None, invoice=invoice)
        except ForcedRollback:
            return "rolled back"
        return "issued"

    outcomes = run_workers(drafts, issue)

    # then each location's numbers are exactly 1..k, and the doomed drafts stay unnumbered drafts
    assert outcomes == Counter({"issued": 180, "rolled back": 20})
    for location in (clinic.location, second):
        issued = Invoice.objects.filter(location=location).exclude(status=InvoiceStatus.DRAFT)
        sequence = sorted(seq for seq in issued.values_list("number_seq", flat=True) if seq is not None)
        assert sequence == list(range(1, len(sequence) + 1))
        assert len(set(issued.values_list("number", flat=True))) == len(sequence)
    assert set(Invoice.objects.filter(status=InvoiceStatus.DRAFT).values_list("pk", flat=True)) == doomed
    assert not Invoice.objects.filter(status=InvoiceStatus.DRAFT, number__isnull=False).exists()


def test_payments_racing_on_one_invoice_never_overpay_it_without_recording_the_credit() -> None:
    # given an issued invoice of 450.00
    with time_machine.travel(NOW, tick=False):
        clinic, _ = clinic_with_patients(0)
        patient = PatientFactory(group=clinic.group)
        line = LineSpec(description="Infusion", quantity=Decimal(1), unit_price=Decimal("450.00"))
        invoice = invoice_create(actor=None, patient=patient, location=clinic.location, lines=[line])
        invoice_issue(actor=None, invoice=invoice)

    # when twelve receptionists each take 100.00 on it at the same moment
    def take(_: int) -> str:
        try:
            payment_record(actor=None, invoice=invoice, amount=Decimal("100.00"), method="card")
        except ApplicationError as error:
            return error.code
        return "paid"

    outcomes = run_workers(list(range(WORKERS)), take)

    # then the invoice is paid exactly, and every cent beyond it is the patient's credit
    amounts = invoice_amounts(invoice.pk)
    received = sum(Payment.objects.values_list("amount", flat=True), Decimal(0))
    assert outcomes["paid"] + outcomes["invoice_paid"] == WORKERS
    assert amounts.paid == Decimal("450.00")
    assert amounts.balance == 0
    assert received == Decimal(100) * outcomes["paid"]
    assert patient_credit(patient_id=patient.pk, currency="USD") == received - Decimal("450.00")
    assert sum(PaymentAllocation.objects.values_list("amount", flat=True), Decimal(0)) == Decimal("450.00")
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
