"""Invoices as issued: lines with codes, units, prices and tax; totals."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from worker.pdf.layout import BODY, build, clinic_header, facts, grid, money, text


def render_invoice(data: dict[str, Any]) -> bytes:
    currency = data["currency"]
    story: list[Flowable] = clinic_header(data["clinic"], "Invoice", f"Invoice {data['number']}")
    patient = data["patient"]
    story.append(facts([("Bill to", patient["name"]), ("Date of birth", patient["date_of_birth"]),
                        ("Issued", data["issued_at"]), ("Terms", data.get("terms")),
                        ("Due date", data.get("due_date")), ("Currency", currency)]))  # fmt: skip
    story.append(Spacer(1, 12))
    rows = [
        [line["service_date"] or "", line["code"] + (f"-{line['modifier']}" if line["modifier"] else ""),
         line["description"], line["quantity"], line["unit_price"], line["tax"], line["total"]]
        for line in data["lines"]
    ]  # fmt: skip
    story.append(grid(["Date", "Code", "Description", "Units", "Unit price", "Tax", "Amount"], rows,
                      [0.8, 0.8, 2.5, 0.5, 0.8, 0.6, 1.0]))  # fmt: skip
    story.append(Spacer(1, 10))
    totals = [("Subtotal", money(data["subtotal"], currency)), ("Tax", money(data["tax_total"], currency)),
              ("Total", money(data["total"], currency))]  # fmt: skip
    if "balance" in data:  # snapshots taken before payments were shown have none
        if data["credited"] not in ("0", "0.00"):
            totals.append(("Credited", money(f"-{data['credited']}", currency)))
        totals += [("Paid", money(data["paid"], currency)), ("Balance due", money(data["balance"], currency))]
    story.append(facts(totals))
    if data["notes"]:
        story += [Spacer(1, 10), text(data["notes"], BODY)]
    return build(story, title=f"Invoice {data['number']}")
