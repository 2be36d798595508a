"""The superbill: what a patient sends their insurer to claim out-of-network reimbursement.

It carries what a claim form (CMS-1500) asks for: the patient with their address, the diagnoses listed once
with their pointers (A-L), each service with its date, place of service, CPT/HCPCS code and modifiers,
units, charge, pointer and rendering provider (name, credentials, NPI), the referring provider, the clinic's
name, address, EIN and NPI, what was paid on exactly those services, and a signature and attestation line.
"""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from worker.pdf.layout import BODY, HEADING, SMALL, build, clinic_header, facts, grid, money, text

NOTE = ("Submit this statement to your insurance plan for out-of-network reimbursement; the clinic does not bill "
        "your plan directly. Services paid by a prepaid package are marked (P).")  # fmt: skip


def _named(person: dict[str, str] | None) -> str:
    if not person:
        return ""
    name = person["name"] + (f", {person['credentials']}" if person.get("credentials") else "")
    return name + (f" (NPI {person['npi']})" if person.get("npi") else "")


def render_superbill(data: dict[str, Any]) -> bytes:
    currency = data["currency"]
    clinic = data["clinic"]
    period = f"{data['period']['from']} to {data['period']['to']}"
    story: list[Flowable] = clinic_header(clinic, "Superbill", f"Services {period}")
    patient = data["patient"]
    diagnoses = "; ".join(f"{d['pointer']}. {d['code']}" for d in data["diagnoses"]) or "none recorded"
    story.append(facts([
        ("Patient", patient["name"]),
        ("Date of birth", patient["date_of_birth"]),
        ("Address", patient.get("address") or "not recorded"),
        ("Diagnoses (ICD-10)", diagnoses),
        ("Referring provider", _named(data.get("referring_provider")) or "none"),
        ("Clinic EIN", clinic["tax_id"]),
        ("Clinic NPI", clinic["npi"]),
    ]))  # fmt: skip
    story.append(text("Services", HEADING))
    rows = [
        [s["date"], s["place_of_service"], s["code"] + (f"-{s['modifier']}" if s["modifier"] else ""),
         s["description"] + (f" (NDC {s['ndc']} {s['ndc_units']})".replace(" )", ")") if s["ndc"] else ""),
         s["units"], s["pointer"], _named(s["provider"]), s["charge"] + (" (P)" if s["by_package"] else ""),
         s["paid"]]
        for s in data["services"]
    ]  # fmt: skip
    story.append(grid(["Date", "POS", "CPT/HCPCS", "Description", "Units", "Dx", "Rendering provider", "Charge",
                       "Paid"], rows, [0.75, 0.38, 0.82, 1.5, 0.4, 0.3, 1.5, 0.7, 0.65]))  # fmt: skip
    story.append(Spacer(1, 8))
    story.append(facts([("Total charges", money(data["total_charges"], currency)),
                        ("Amount paid", money(data["total_paid"], currency)),
                        ("Balance", money(data["balance"], currency))]))  # fmt: skip
    story += [Spacer(1, 14), text(data["attestation"], BODY), Spacer(1, 18),
              text("Signature: ______________________________    Date: ______________", BODY),
              Spacer(1, 14), text(NOTE, SMALL)]  # fmt: skip
    return build(story, title=f"Superbill {period}")
