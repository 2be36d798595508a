"""Demo billing: fee schedule with CPT/HCPCS codes, location policies, an induction package, a paid invoice."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from backend.models import ClinicGroup
from billing.models import BillingPolicy, FeeScheduleItem, Invoice, Package
from billing.services.invoices import LineSpec, invoice_create, invoice_issue
from billing.services.payments import payment_record
from scheduling.demo import GROUP_NAME
from scheduling.models import Location, ServiceType

# Every service type's lines; they add up to its list price (scheduling/demo.py SERVICES).
FEES = {
    "infusion-40": [
        ("96365", "", "IV infusion, first hour", "1", "300.00", "", ""),
        ("J3490", "", "Ketamine HCl 50 mg/mL", "1", "50.00", "42023-0113-10", "ML 2"),
        ("99214", "25", "Established patient visit", "1", "100.00", "", ""),
    ],
    "infusion-60": [
        ("96365", "", "IV infusion, first hour", "1", "300.00", "", ""),
        ("96366", "", "IV infusion, each additional hour", "1", "100.00", "", ""),
        ("J3490", "", "Ketamine HCl 50 mg/mL", "1", "50.00", "42023-0113-10", "ML 2"),
        ("99214", "25", "Established patient visit", "1", "100.00", "", ""),
    ],
    "kap": [
        ("99214", "25", "Established patient visit", "1", "300.00", "", ""),
        ("90837", "", "Psychotherapy, 60 minutes", "1", "600.00", "", ""),
    ],
    "integration": [("90837", "", "Psychotherapy, 60 minutes", "1", "200.00", "", "")],
    "consultation": [("99204", "", "New patient visit", "1", "250.00", "", "")],
}


def seed(*, password: str) -> str:
    group = ClinicGroup.objects.filter(name=GROUP_NAME).first()
    if group is None:
        return "no demo clinic"
    if Invoice.objects.filter(location__group=group).exists():
        return "already loaded"
    with transaction.atomic():
        _fee_schedule(group)
        locations = list(Location.objects.filter(group=group).order_by("name"))
        for index, location in enumerate(locations):
            BillingPolicy.objects.get_or_create(location=location, defaults={
                "invoice_prefix": f"INV{index + 1}", "credit_note_prefix": f"CN{index + 1}", "tax_id": "12-3456789",
                "npi": "1538293840", "late_cancellation_fee": Decimal("150.00"), "no_show_fee": Decimal("200.00"),
            })  # fmt: skip
            Package.objects.create(
                location=location, service_type=ServiceType.objects.get(group=group, code="infusion-40"),
                name="Induction series (6 infusions)", sessions=6, price=Decimal("2400.00"), currency=location.currency,
                code="PKG6",
            )  # fmt: skip
    patient = group.patients.order_by("id").first()
    if patient is not None:
        invoice = invoice_create(
            actor=None, patient=patient, location=locations[0],
            lines=[LineSpec(description="Initial consultation", code="99204", quantity=Decimal(1),
                            unit_price=Decimal("250.00"))],
        )  # fmt: skip
        invoice_issue(actor=None, invoice=invoice)
        payment_record(actor=None, invoice=invoice, amount=Decimal("250.00"), method="card", reference="demo")
    return f"{GROUP_NAME}: fee schedule, billing policies, packages, one paid invoice"


def _fee_schedule(group: ClinicGroup) -> None:
    for code, lines in FEES.items():
        service = ServiceType.objects.get(group=group, code=code)
        FeeScheduleItem.objects.bulk_create([
            FeeScheduleItem(service_type=service, position=position, code=cpt, modifier=modifier,
                            description=description, quantity=Decimal(quantity), unit_price=Decimal(price), ndc=ndc,
                            ndc_units=ndc_units)
            for position, (cpt, modifier, description, quantity, price, ndc, ndc_units) in enumerate(lines)
        ])  # fmt: skip
