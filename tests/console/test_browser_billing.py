"""The accountant's flows in real headless Chromium against a live server and a real export worker."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bench.ledger import bulk_issued_lines
from billing.models import ExportJob
from billing.selectors import invoices_for
from tests.console.conftest import ConsoleClinic, screenshot, sign_in
from tests.processes import CeleryWorker

pytestmark = [pytest.mark.browser, pytest.mark.integration]
INVOICES = 3_000  # 9,000 lines: seconds of XLSX writing, so the bar is seen moving


def _xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [row for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def stream_everything(settings: Any) -> None:
    """The API's direct download serves any number of rows, so it can give the same rows to compare."""
    settings.EXPORT_STREAM_MAX_ROWS = 10**7


@pytest.mark.usefixtures("stream_everything")
def test_an_accountant_watches_an_export_reach_100_percent_and_downloads_the_apis_rows(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic, media: Path, tmp_path: Path
) -> None:
    c = browser_clinic
    today = timezone.localdate(timezone=c.clinic.location.zone)
    lines = bulk_issued_lines(location_id=c.clinic.location.pk, patient_ids=[c.clinic.patient.pk, c.clinic.patient2.pk],
                              currency="USD", invoices=INVOICES, issued_at=timezone.now())  # fmt: skip
    worker = CeleryWorker(queues="exports", log_path=tmp_path / "worker.log",
                          extra_env={"MEDIA_ROOT": str(media), "EXPORT_PROGRESS_INTERVAL": "0"}).start()  # fmt: skip
    try:
        page = sign_in(chromium, live_server, c.clinic.accountant, lands_on="/console/")
        page.get_by_role("link", name="Billing").click()
        page.get_by_role("link", name="Exports").click()
        page.get_by_label("What").select_option(label="Invoice lines")
        page.get_by_label("Format").select_option(label="Excel (XLSX)")
        page.get_by_label("From", exact=True).fill(f"{today:%Y-%m-%d}")
        page.get_by_label("To", exact=True).fill(f"{today:%Y-%m-%d}")
        page.get_by_role("button", name="Start export").click()

        filename = f"invoice_lines-{today}-to-{today}.xlsx"
        bar = page.get_by_role("progressbar", name=f"Progress of {filename}")
        seen: list[int] = []
        deadline = time.monotonic() + 300  # generous: a loaded CI machine starts workers slowly
        while time.monotonic() < deadline:
            value = int(bar.get_attribute("value") or 0)
            if not seen or seen[-1] != value:
                seen.append(value)
                if 25 <= value < 100 and not [v for v in seen[:-1] if 25 <= v < 100]:
                    screenshot(page, "export-progress")  # the README's, with the bar on its way
            if value == 100:
                break
            time.sleep(0.1)

        assert seen[-1] == 100, seen
        assert seen == sorted(seen), seen
        assert any(0 < value < 100 for value in seen), seen  # the bar was seen between start and done
        link = page.get_by_role("link", name=f"Download {filename}")
        expect(link).to_be_visible()
        with page.expect_download() as download_info:
            link.click()
        downloaded = Path(download_info.value.path()).read_bytes()
    finally:
        worker.stop()

    same = {"kind": "invoice_lines", "format": "xlsx", "from": str(today), "to": str(today)}
    api = page.request.get(f"{live_server.url}/api/v1/exports/stream/", params=same, timeout=300_000)
    assert api.status == 200, api.text()
    rows = _xlsx_rows(downloaded)
    job = ExportJob.objects.get(kind="invoice_lines")
    assert job.rows == lines + 1  # and the console clinic's own invoice line
    assert len(rows) == job.rows + 1  # and the header
    assert rows == _xlsx_rows(api.body())


def test_an_accountant_finds_an_invoice_credits_it_refunds_a_payment_and_reads_ar_aging(
    chromium: Any, live_server: Any, browser_clinic: ConsoleClinic
) -> None:
    c = browser_clinic
    page = sign_in(chromium, live_server, c.clinic.accountant, lands_on="/console/")
    page.get_by_role("link", name="Billing").click()
    filters = page.get_by_role("search", name="Filter invoices")
    filters.get_by_label("Status").select_option(label="Partially paid")
    filters.get_by_label("Patient").fill(c.clinic.patient.last_name)
    filters.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=c.invoice.number).click()

    expect(page.get_by_role("heading", name=f"Invoice {c.invoice.number}")).to_be_visible()
    credit = page.get_by_role("group", name="Credit note")
    credit.get_by_label("Lump sum (USD)").fill("20.00")
    credit.get_by_label("Reason").fill("Goodwill for the wait")
    credit.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_role("table", name="Credit notes")).to_contain_text("Goodwill for the wait")

    page.get_by_label("Refund amount").fill("5.00")
    page.get_by_label("Refund reason").fill("Parking refund")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_role("region", name="Payments")).to_contain_text("Refund: Parking refund")
    screenshot(page, "invoice")

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="AR aging")).to_be_visible()
    chart = page.get_by_role("img", name="Owed by age (USD)")
    expect(chart).to_be_visible()
    balance = invoices_for(c.clinic.accountant).get(pk=c.invoice.pk).balance  # type: ignore[attr-defined]
    assert balance == Decimal("135.00")  # 200.00 - 20.00 credited - (50.00 paid - 5.00 refunded)
    expect(page.get_by_role("table", name="Totals")).to_contain_text("135.00")
    screenshot(page, "ar-aging")
