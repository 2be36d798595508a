"""Receipts for payments and refunds."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from worker.pdf.layout import HEADING, SMALL, build, clinic_header, facts, money, text

THANKS = "Thank you. Keep this receipt for your records; a superbill for insurance is available on request."


def _patient_rows(patient: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("Patient", patient["name"]), ("Date of birth", patient["date_of_birth"])]


def render_receipt(data: dict[str, Any]) -> bytes:
    story: list[Flowable] = clinic_header(data["clinic"], "Payment receipt", f"Receipt {data['number']}")
    kind = "Deposit (held as credit for upcoming visits)" if data["is_deposit"] else "Payment"
    story.append(facts([
        *_patient_rows(data["patient"]),
        ("Received", data["received_at"]),
        ("For", f"Invoice {data['invoice']}" if data["invoice"] else kind),
        ("Method", data["method"]),
        ("Reference", data["reference"]),
    ]))  # fmt: skip
    story += [Spacer(1, 12), text("Amount received", HEADING), text(money(data["amount"], data["currency"]), HEADING)]
    if data.get("invoice_balance") is not None:  # snapshots taken before balances were shown have none
        story.append(facts([("Invoice total", money(data["invoice_total"], data["currency"])),
                            ("Still to pay", money(data["invoice_balance"], data["currency"]))]))  # fmt: skip
    story += [Spacer(1, 18), text(THANKS, SMALL)]
    return build(story, title=f"Receipt {data['number']}")


def render_refund_receipt(data: dict[str, Any]) -> bytes:
    story: list[Flowable] = clinic_header(data["clinic"], "Refund receipt", f"Refund {data['number']}")
    story.append(facts([
        *_patient_rows(data["patient"]),
        ("Refunded", data["refunded_at"]),
        ("Original payment", f"Receipt {data['payment_receipt']}"),
        ("Invoice", data["invoice"]),
        ("Returned to", data["method"]),
        ("Reason", data["reason"]),
    ]))  # fmt: skip
    story += [Spacer(1, 12), text("Amount refunded", HEADING), text(money(data["amount"], data["currency"]), HEADING)]
    return build(story, title=f"Refund {data['number']}")
