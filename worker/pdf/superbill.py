"""The superbill: what a patient sends their insurer to claim out-of-network reimbursement."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from worker.pdf.layout import HEADING, SMALL, build, clinic_header, facts, grid, money, text

NOTE = ("This statement lists services rendered and payments received. Submit it to your insurance plan for "
        "out-of-network reimbursement; the clinic does not bill your plan directly.")  # fmt: skip


def render_superbill(data: dict[str, Any]) -> bytes:
    currency = data["currency"]
    clinic = data["clinic"]
    period = f"{data['period']['from']} to {data['period']['to']}"
    story: list[Flowable] = clinic_header(clinic, "Superbill", f"Statement for {period}")
    patient = data["patient"]
    story.append(facts([
        ("Patient", patient["name"]),
        ("Date of birth", patient["date_of_birth"]),
        ("Diagnosis (ICD-10)", ", ".join(patient["diagnosis_codes"]) or "none recorded"),
        ("Place of service", data["place_of_service"]),
        ("Clinic tax id (EIN)", clinic["tax_id"]),
        ("Clinic NPI", clinic["npi"]),
    ]))  # fmt: skip
    story.append(text("Rendering providers", HEADING))
    providers = [[p["name"], p["npi"] or "-"] for p in data["providers"]] or [["(not recorded)", "-"]]
    story.append(grid(["Provider", "NPI"], providers, [4.0, 3.0]))
    story.append(text("Services", HEADING))
    rows = [
        [s["date"], s["code"] + (f"-{s['modifier']}" if s["modifier"] else ""),
         s["description"] + (f" (NDC {s['ndc']})" if s["ndc"] else ""), s["units"],
         (s["provider"] or {}).get("npi", ""), s["charge"]]
        for s in data["services"]
    ]  # fmt: skip
    story.append(grid(["Date", "CPT/HCPCS", "Description", "Units", "Provider NPI", "Charge"], rows,
                      [0.8, 0.9, 3.1, 0.5, 0.9, 0.8]))  # fmt: skip
    story.append(text("Payments", HEADING))
    payments = [[p["date"], p["method"], p["reference"] or "", p["amount"]] for p in data["payments"]]
    story.append(grid(["Date", "Method", "Reference", "Amount"], payments or [["-", "-", "-", "0.00"]],
                      [0.9, 1.6, 3.4, 1.1]))  # fmt: skip
    story.append(Spacer(1, 10))
    story.append(facts([("Total charges", money(data["total_charges"], currency)),
                        ("Total paid", money(data["total_paid"], currency))]))  # fmt: skip
    story += [Spacer(1, 12), text(NOTE, SMALL)]
    return build(story, title=f"Superbill {patient['name']} {period}")
