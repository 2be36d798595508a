"""Fixed sample snapshots: the golden-document tests, the receipt benchmark and the images in docs/.

``python -m worker.pdf.samples DIR`` writes sample PDFs and, when PyMuPDF is
installed (a dev dependency), a PNG of each first page into DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from worker.pdf import render

CLINIC = {
    "name": "Harbor Ketamine Clinic", "location": "Boston", "address": "100 Federal St, Boston, MA 02110",
    "phone": "+1 617 555 0100", "tax_id": "12-3456789", "npi": "1538293840",
}  # fmt: skip
PATIENT = {
    "id": "6f1c5a2e-0000-4000-8000-000000000001", "name": "Zoë Ramírez", "date_of_birth": "1985-05-17",
    "email": "zoe@example.com", "phone": "+16175550123", "diagnosis_codes": ["F43.10", "F33.2"],
}  # fmt: skip
PROVIDER = {"name": "Dr. Mei Chen", "credentials": "MD", "npi": "1234567893"}


def receipt() -> dict[str, Any]:
    return {
        "kind": "receipt", "number": "R-6F1C5A2E00", "clinic": CLINIC, "patient": PATIENT,
        "received_at": "2026-10-05 10:45 EDT", "amount": "450.00", "currency": "USD", "method": "Card",
        "reference": "Visa ending 4242", "invoice": "INV-2026-00042", "invoice_total": "900.00",
        "invoice_balance": "450.00", "is_deposit": False,
    }  # fmt: skip


def superbill() -> dict[str, Any]:
    services = []
    for day in ("2026-10-05", "2026-10-07", "2026-10-09"):
        services += [
            {"date": day, "place_of_service": "11", "code": "96365", "modifier": "", "ndc": "", "ndc_units": "",
             "description": "IV infusion, first hour", "units": "1", "charge": "300.00", "paid": "300.00",
             "pointer": "AB", "provider": PROVIDER, "invoice": "INV-2026-00042", "by_package": False},
            {"date": day, "place_of_service": "11", "code": "J3490", "modifier": "", "ndc": "42023-0113-10",
             "ndc_units": "ML 2", "description": "Ketamine HCl 50 mg/mL", "units": "1", "charge": "50.00",
             "paid": "50.00", "pointer": "AB", "provider": PROVIDER, "invoice": "INV-2026-00042", "by_package": False},
            {"date": day, "place_of_service": "11", "code": "99214", "modifier": "25", "ndc": "", "ndc_units": "",
             "description": "Established patient visit", "units": "1", "charge": "100.00", "paid": "100.00",
             "pointer": "AB", "provider": PROVIDER, "invoice": "INV-2026-00042", "by_package": False},
        ]  # fmt: skip
    return {
        "kind": "superbill", "clinic": CLINIC, "patient": {**PATIENT, "address": "12 Elm St, Somerville, MA 02143"},
        "period": {"from": "2026-10-01", "to": "2026-10-31"}, "series": None, "currency": "USD",
        "diagnoses": [{"pointer": "A", "code": "F43.10"}, {"pointer": "B", "code": "F33.2"}],
        "referring_provider": {"name": "Dr. Lena Ortiz", "credentials": "MD", "npi": "1245319599"},
        "services": services, "total_charges": "1350.00", "total_paid": "1350.00", "balance": "0.00",
        "attestation": "I certify that the services listed above were medically necessary and were personally "
        "rendered or supervised by me.",
    }  # fmt: skip


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name, payload in (("sample-receipt", receipt()), ("sample-superbill", superbill())):
        pdf = render(payload)
        try:
            import pymupdf
        except ImportError:
            (target / f"{name}.pdf").write_bytes(pdf)
            continue
        page = pymupdf.open(stream=pdf, filetype="pdf")[0]
        page.get_pixmap(dpi=80).save(str(target / f"{name}.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs")
