"""Credit notes: the invoice they correct, why, the lines credited, and what the invoice comes to after."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from worker.pdf.layout import SMALL, build, clinic_header, facts, grid, money, text

NOTE = (
    "This credit note reduces the invoice named above; any amount already paid beyond it is held as credit or refunded."
)


def render_credit_note(data: dict[str, Any]) -> bytes:
    currency = data["currency"]
    story: list[Flowable] = clinic_header(data["clinic"], "Credit note", f"Credit note {data['number']}")
    patient = data["patient"]
    story.append(facts([("Patient", patient["name"]), ("Date of birth", patient["date_of_birth"]),
                        ("Issued", data["issued_at"]), ("Corrects invoice", data["invoice"]),
                        ("Invoice date", data["invoice_issued"]), ("Reason", data["reason"])]))  # fmt: skip
    story.append(Spacer(1, 12))
    rows = [[line["code"], line["description"], line["quantity"], line["tax"], line["total"]] for line in data["lines"]]
    story.append(grid(["Code", "Description", "Units", "Tax", "Credited"], rows, [0.9, 3.6, 0.6, 0.8, 1.1]))
    story.append(Spacer(1, 10))
    story.append(facts([("Subtotal", money(data["subtotal"], currency)), ("Tax", money(data["tax_total"], currency)),
                        ("Total credited", money(data["total"], currency)),
                        ("Invoice total now", money(data["invoice_net"], currency)),
                        ("Still to pay", money(data["invoice_balance"], currency))]))  # fmt: skip
    story += [Spacer(1, 14), text(NOTE, SMALL)]
    return build(story, title=f"Credit note {data['number']}")
