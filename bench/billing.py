"""Benchmarks 4b (invoice list over HTTP vs one raw query) and 6 (receipts through the worker vs ReportLab alone)."""

from __future__ import annotations

import resource
import tempfile
import time
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from backend.models import DocumentStatus, EmailStatus
from bench import stack
from bench.benchmarks import Settings, list_versus_raw
from bench.dataset import Dataset
from bench.harness import Result
from bench.stack import Client
from billing.documents import digest, receipt_payload
from billing.models import Document, Invoice, InvoiceLine, Payment, PaymentAllocation
from worker.pdf import render

LINES = (("96365", "IV infusion, first hour", Decimal("300.00")), ("J3490", "Ketamine HCl", Decimal("50.00")),
         ("99214", "Established patient visit", Decimal("100.00")))  # fmt: skip


def create_invoices(data: Dataset, count: int) -> None:
    """``count`` issued invoices of three lines, a third of them paid, written in bulk."""
    patients = data.patients
    invoices = Invoice.objects.bulk_create(
        Invoice(location=data.location, patient=patients[n % len(patients)], currency="USD", subtotal=Decimal(450),
                total=Decimal(450))
        for n in range(count)
    )  # fmt: skip
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=position, description=description, code=code, quantity=Decimal(1),
                    unit_price=price, amount=price, total=price)
        for invoice in invoices for position, (code, description, price) in enumerate(LINES)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET status = 'issued', issued_at = now(), number_year = 2026, "
            "number_seq = id, number = 'BENCH-' || id WHERE location_id = %s AND status = 'draft'",
            [data.location.pk],
        )
    paid = invoices[::3]
    payments = Payment.objects.bulk_create(
        Payment(patient_id=invoice.patient_id, location=data.location, invoice=invoice, currency="USD",
                amount=Decimal(450), method="card", received_at=timezone.now())
        for invoice in paid
    )  # fmt: skip
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(payment=payment, invoice=invoice, amount=Decimal(450), reason="payment")
        for payment, invoice in zip(payments, paid, strict=True)
    )
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in paid]).update(status="paid")


INVOICE_ROWS_SQL = (
    "SELECT i.public_id, i.number, i.kind, i.status, p.public_id, p.first_name, p.last_name, l.public_id,"
    " l.timezone, i.issued_at, i.currency, i.subtotal, i.tax_total, i.total, i.notes, i.created_at,"
    " (SELECT json_agg(json_build_array(x.public_id, x.description, x.code, x.quantity, x.unit_price,"
    " x.amount, x.tax, x.total) ORDER BY x.position) FROM billing_invoiceline x WHERE x.invoice_id = i.id),"
    " (SELECT coalesce(sum(a.amount), 0) FROM billing_paymentallocation a WHERE a.invoice_id = i.id),"
    " (SELECT coalesce(sum(c.total), 0) FROM billing_creditnote c WHERE c.invoice_id = i.id)"
    " FROM billing_invoice i JOIN scheduling_patient p ON p.id = i.patient_id"
    " JOIN scheduling_location l ON l.id = i.location_id WHERE i.location_id = %s"
    " ORDER BY i.created_at DESC, i.id DESC LIMIT %s"
)


def invoice_list(client: Client, data: Dataset, settings: Settings) -> Result:
    create_invoices(data, 600)
    return list_versus_raw(
        "4b. invoice list (HTTP)", "page of 100 (3 lines each)", client, data, settings,
        page_of=f"/api/v1/invoices/?location={data.location.public_id}&page_size=", rows_sql=INVOICE_ROWS_SQL,
    )  # fmt: skip


# --- 6. receipts --------------------------------------------------------------------------------------


def _receipt_requests(data: Dataset, count: int) -> list[int]:
    """``count`` deposits with their receipt requests, as the payment services write them (in bulk)."""
    patients = data.patients
    payments = Payment.objects.bulk_create(
        Payment(patient=patients[n % len(patients)], location=data.location, is_deposit=True, currency="USD",
                amount=Decimal("150.00"), method="card", reference=f"bench {n}", received_at=timezone.now())
        for n in range(count)
    )  # fmt: skip
    documents = []
    for payment in Payment.objects.filter(pk__in=[p.pk for p in payments]).select_related("patient", "location"):
        payload = receipt_payload(payment)
        documents.append(Document(kind="receipt", patient=payment.patient, payment=payment, payload=payload,
                                  payload_digest=digest(payload), email_status=EmailStatus.NOT_WANTED))  # fmt: skip
    return [document.pk for document in Document.objects.bulk_create(documents)]


def receipts(data: Dataset, *, count: int) -> Result:
    ids = _receipt_requests(data, count)
    media = tempfile.mkdtemp(prefix="bench-media-")
    samples: list[tuple[int, int]] = []
    with stack.celery_worker("documents", pool=("--pool", "prefork", "--concurrency", "1"),
                             env={"MEDIA_ROOT": media}) as worker:  # fmt: skip
        from worker.tasks.documents import document_render_task

        started = time.perf_counter()
        for document_id in ids:
            document_render_task.apply_async((document_id,), queue="documents")
        deadline = started + 900
        while True:
            done = Document.objects.filter(pk__in=ids, status=DocumentStatus.DONE).count()
            samples.append((done, stack.rss_kb(stack.worker_pids(worker.pid))))
            if done == count or time.perf_counter() > deadline:
                break
            time.sleep(0.5)
        worker_seconds = time.perf_counter() - started

    # baseline: ReportLab alone, in this process, on the same snapshots (up to 2,000 of them)
    payloads = list(Document.objects.filter(pk__in=ids[:2000]).values_list("payload", flat=True))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    for payload in payloads:
        render(payload)
    baseline_seconds = time.perf_counter() - started
    rate, baseline_rate = done / worker_seconds, len(payloads) / baseline_seconds
    ratio = rate / baseline_rate
    early = next((rss for finished, rss in samples if finished >= count // 10 and rss), samples[-1][1])
    late = max(rss for _, rss in samples[len(samples) // 2 :]) if samples else 0
    flat = late <= early * 1.2 + 10_240
    return Result(
        name="6. receipt rendering", workload=f"{count} receipts, 1 worker process (fetch, render, store)",
        median_ms=round(worker_seconds * 1000 / max(done, 1), 3), p95_ms=None,
        baseline="ReportLab alone, same snapshots, in process",
        baseline_median_ms=round(baseline_seconds * 1000 / len(payloads), 3), ratio=round(ratio, 3),
        target="rate ratio >= 1/3, flat memory", met=done == count and ratio >= 1 / 3 and flat,
        extra={"rendered": done, "worker_seconds": round(worker_seconds, 2), "worker_rate_per_s": round(rate, 1),
               "baseline_rate_per_s": round(baseline_rate, 1), "worker_rss_mb_at_10pct": round(early / 1024, 1),
               "worker_rss_mb_max_second_half": round(late / 1024, 1),
               "baseline_process_maxrss_mb": round(rss_before / 1024, 1)},
        note=f"{done} in {worker_seconds:.1f} s ({rate:.0f}/s) vs ReportLab {baseline_rate:.0f}/s; worker RSS "
        f"{early / 1024:.0f} -> {late / 1024:.0f} MB; ms columns are per receipt, ratio is rate/rate",
    )  # fmt: skip
