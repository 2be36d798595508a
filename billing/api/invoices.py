"""Invoices: list and read, drafts (from visits or typed lines), issue, payments, credit notes, PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.documents import PDF_RESPONSES, document_response
from backend.fields import MoneyField, PublicIdField, QuantityField, zoned
from backend.filters import AwareDateTimeFilter
from backend.idempotency import idempotent_response
from backend.identifiers import validate_billing_code, validate_modifiers
from backend.money import money_text
from backend.permissions import acting_user
from billing import selectors
from billing.api.payments import DocumentLinkOutput, PaymentInput, PaymentOutput, payment_output
from billing.errors import InvoiceNotIssued
from billing.models import Document, Invoice, InvoiceKind, InvoiceStatus
from billing.permissions import ReadBilling, TakePayments, WriteInvoices
from billing.services.credit_notes import CreditLineSpec, credit_note_issue
from billing.services.invoices import (
    LineSpec,
    invoice_create,
    invoice_create_for_appointments,
    invoice_delete_draft,
    invoice_issue,
    invoice_update_draft,
)
from billing.services.payments import payment_record
from scheduling import selectors as scheduling_selectors
from scheduling.filters import LocationFilter

# --- output ----------------------------------------------------------------------------------


class InvoiceLineOutput(serializers.Serializer):
    id = serializers.UUIDField()
    description = serializers.CharField()
    code = serializers.CharField()
    modifier = serializers.CharField()
    ndc = serializers.CharField()
    ndc_units = serializers.CharField()
    service_date = serializers.DateField(allow_null=True)
    appointment = serializers.UUIDField(allow_null=True)
    quantity = serializers.CharField()
    unit_price = serializers.CharField()
    tax_rate = serializers.CharField()
    amount = serializers.CharField()
    tax = serializers.CharField()
    total = serializers.CharField()


class CreditNoteOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    reason = serializers.CharField()
    total = serializers.CharField()
    issued_at = serializers.CharField()
    pdf_url = serializers.CharField(help_text="The credit note's PDF (202 while the worker renders it).")


class InvoiceOutput(serializers.Serializer):
    """An invoice with derived amounts: ``balance = total - credited - paid``. Money as strings."""

    id = serializers.UUIDField()
    number = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=InvoiceKind.choices)
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    patient = serializers.UUIDField()
    patient_name = serializers.CharField()
    location = serializers.UUIDField()
    issued_at = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    lines = InvoiceLineOutput(many=True)
    subtotal = serializers.CharField()
    tax_total = serializers.CharField()
    total = serializers.CharField()
    credited = serializers.CharField()
    paid = serializers.CharField()
    balance = serializers.CharField()
    notes = serializers.CharField()
    credit_notes = CreditNoteOutput(many=True)
    pdf = DocumentLinkOutput()
    created_at = serializers.CharField()

    def to_representation(self, invoice: Invoice) -> dict[str, Any]:
        if not hasattr(invoice, "detail_lines"):
            selectors.attach_invoice_details([invoice])
        zone = invoice.location.zone
        request = self.context.get("request")
        pdf_url = f"/api/v1/invoices/{invoice.public_id}/pdf/"
        pdf_status = None if invoice.is_draft else invoice.pdf_status  # type: ignore[attr-defined]
        return {
            "id": str(invoice.public_id),
            "number": invoice.number,
            "kind": invoice.kind,
            "status": invoice.status,
            "patient": str(invoice.patient.public_id),
            "patient_name": f"{invoice.patient.first_name} {invoice.patient.last_name}",
            "location": str(invoice.location.public_id),
            "issued_at": zoned(invoice.issued_at, zone),
            "currency": invoice.currency,
            "lines": [_line(line, invoice.currency) for line in invoice.detail_lines],  # type: ignore[attr-defined]
            "subtotal": money_text(invoice.subtotal, invoice.currency),
            "tax_total": money_text(invoice.tax_total, invoice.currency),
            "total": money_text(invoice.total, invoice.currency),
            "credited": money_text(invoice.credited, invoice.currency),  # type: ignore[attr-defined]
            "paid": money_text(invoice.paid, invoice.currency),  # type: ignore[attr-defined]
            "balance": money_text(invoice.balance, invoice.currency),  # type: ignore[attr-defined]
            "notes": invoice.notes,
            "credit_notes": [
                {
                    "id": str(note["public_id"]),
                    "number": note["number"],
                    "reason": note["reason"],
                    "total": money_text(note["total"], invoice.currency),
                    "issued_at": zoned(note["issued_at"], zone),
                    "pdf_url": f"/api/v1/credit-notes/{note['public_id']}/pdf/",
                }
                for note in invoice.detail_credit_notes  # type: ignore[attr-defined]
            ],
            "pdf": {
                "status": pdf_status,
                "url": (request.build_absolute_uri(pdf_url) if request else pdf_url) if pdf_status else None,
            },
            "created_at": zoned(invoice.created_at, zone),
        }


def _line(line: dict[str, Any], currency: str) -> dict[str, Any]:
    appointment = line["appointment__public_id"]
    return {
        "id": str(line["public_id"]),
        "description": line["description"],
        "code": line["code"],
        "modifier": line["modifier"],
        "ndc": line["ndc"],
        "ndc_units": line["ndc_units"],
        "service_date": line["service_date"].isoformat() if line["service_date"] else None,
        "appointment": str(appointment) if appointment else None,
        "quantity": format(line["quantity"].normalize(), "f"),
        "unit_price": money_text(line["unit_price"], currency),
        "tax_rate": format(line["tax_rate"].normalize(), "f"),
        "amount": money_text(line["amount"], currency),
        "tax": money_text(line["tax"], currency),
        "total": money_text(line["total"], currency),
    }


# --- input -----------------------------------------------------------------------------------


class LineInput(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    code = serializers.CharField(
        max_length=20, required=False, default="", allow_blank=True, validators=[validate_billing_code],
        help_text="CPT or HCPCS (96365, J3490); empty for a line without one (a retail item).",
    )  # fmt: skip
    modifier = serializers.CharField(
        max_length=10, required=False, default="", allow_blank=True, validators=[validate_modifiers]
    )
    ndc = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    ndc_units = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    quantity = QuantityField(required=False, default=Decimal(1))
    unit_price = MoneyField()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=4, required=False, default=Decimal(0),
                                        min_value=Decimal(0), max_value=Decimal(1), coerce_to_string=True)  # fmt: skip
    service_date = serializers.DateField(required=False, allow_null=True, default=None)

    def spec(self, data: dict[str, Any]) -> LineSpec:
        return LineSpec(**data)


class InvoiceCreateInput(serializers.Serializer):
    """Either ``appointments`` (completed visits, priced by the fee schedule) or typed ``lines``."""

    patient = PublicIdField(name="patient", scope=scheduling_selectors.patients_for)
    location = PublicIdField(name="location", scope=scheduling_selectors.locations_for)
    appointments = PublicIdField(
        name="appointment", scope=scheduling_selectors.appointments_for, many=True, required=False
    )
    lines = LineInput(many=True, required=False)
    notes = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("appointments")) == bool(attrs.get("lines")):
            raise serializers.ValidationError({"lines": ["Give either appointments or lines."]})
        return attrs


class InvoiceUpdateInput(serializers.Serializer):
    lines = LineInput(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CreditLineInput(serializers.Serializer):
    line = serializers.UUIDField(help_text="The invoice line's id")
    quantity = QuantityField()


class CreditNoteInput(serializers.Serializer):
    """Credit units of lines (``lines``) or a lump sum (``amount``)."""

    lines = CreditLineInput(many=True, required=False)
    amount = MoneyField(required=False)
    reason = serializers.CharField(max_length=500)

    @staticmethod
    def line_specs(invoice: Invoice, items: list[dict[str, Any]]) -> list[CreditLineSpec]:
        """The validated ``lines`` as the service's specs; a line of another invoice is a 400 naming it."""
        lines_by_id = {str(line.public_id): line for line in invoice.lines.all()}
        specs = []
        for index, item in enumerate(items):
            line = lines_by_id.get(str(item["line"]))
            if line is None:
                raise serializers.ValidationError({f"lines[{index}].line": ["Not a line of this invoice."]})
            specs.append(CreditLineSpec(line=line, quantity=item["quantity"]))
        return specs


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)
    issued_from = AwareDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_to = AwareDateTimeFilter(field_name="issued_at", lookup_expr="lt")
    patient = django_filters.UUIDFilter(field_name="patient__public_id")
    location = LocationFilter()
    number = django_filters.CharFilter()

    class Meta:
        model = Invoice
        fields = ("status", "kind", "issued_from", "issued_to", "patient", "location", "number")


# --- views -----------------------------------------------------------------------------------


class InvoiceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Invoices the user may see. Accountants and admins write; reception takes payments."""

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_class = InvoiceFilter
    serializer_class = InvoiceOutput
    http_method_names = ("get", "post", "patch", "delete", "head", "options")

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve", "pdf"):
            return [ReadBilling()]
        if self.action == "payments":
            return [TakePayments()]
        return [WriteInvoices()]

    def get_queryset(self) -> QuerySet[Invoice]:
        return selectors.invoices_for(self.request.user)

    def _output(self, invoice: Invoice, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.invoices_for(self.request.user).get(pk=invoice.pk)
        return Response(InvoiceOutput(fresh, context={"request": self.request}).data, status=status_code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        selectors.attach_invoice_details(page)
        return self.get_paginated_response(InvoiceOutput(page, many=True, context={"request": request}).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._output(self.get_object())

    @extend_schema(request=InvoiceCreateInput, responses={201: InvoiceOutput})
    def create(self, request: Request) -> Response:
        data = InvoiceCreateInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = acting_user(request)

        def perform() -> tuple[int, Any]:
            if values.get("appointments"):
                invoice = invoice_create_for_appointments(
                    actor=actor, patient=values["patient"], location=values["location"],
                    appointments=values["appointments"], notes=values["notes"],
                )  # fmt: skip
            else:
                invoice = invoice_create(
                    actor=actor, patient=values["patient"], location=values["location"],
                    lines=[LineSpec(**line) for line in values["lines"]], notes=values["notes"],
                )  # fmt: skip
            fresh = selectors.invoices_for(actor).get(pk=invoice.pk)
            return status.HTTP_201_CREATED, InvoiceOutput(fresh, context={"request": request}).data

        return idempotent_response(request, scope="invoices.create", perform=perform)

    @extend_schema(request=InvoiceUpdateInput, responses=InvoiceOutput)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invoice = self.get_object()
        data = InvoiceUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lines = [LineSpec(**line) for line in values["lines"]] if "lines" in values else None
        updated = invoice_update_draft(
            actor=acting_user(request), invoice=invoice, lines=lines, notes=values.get("notes")
        )
        return self._output(updated)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invoice_delete_draft(actor=acting_user(request), invoice=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=InvoiceOutput)
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, id: str) -> Response:
        return self._output(invoice_issue(actor=acting_user(request), invoice=self.get_object()))

    @extend_schema(request=PaymentInput, responses={201: PaymentOutput})
    @action(detail=True, methods=["post"])
    def payments(self, request: Request, id: str) -> Response:
        invoice = self.get_object()
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = acting_user(request)

        def perform() -> tuple[int, Any]:
            payment = payment_record(
                actor=actor, invoice=invoice, amount=values["amount"], method=values["method"],
                reference=values["reference"], currency=values.get("currency"),
            )  # fmt: skip
            return status.HTTP_201_CREATED, payment_output(payment, actor, request)

        return idempotent_response(request, scope=f"invoices.{invoice.pk}.payments", perform=perform)

    @extend_schema(request=CreditNoteInput, responses={201: InvoiceOutput})
    @action(detail=True, methods=["post"], url_path="credit-notes")
    def credit_notes(self, request: Request, id: str) -> Response:
        invoice = self.get_object()
        data = CreditNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        specs = CreditNoteInput.line_specs(invoice, values.get("lines", []))
        actor = acting_user(request)

        def perform() -> tuple[int, Any]:
            credit_note_issue(actor=actor, invoice=invoice, reason=values["reason"], lines=specs,
                              amount=values.get("amount"))  # fmt: skip
            fresh = selectors.invoices_for(actor).get(pk=invoice.pk)
            return status.HTTP_201_CREATED, InvoiceOutput(fresh, context={"request": request}).data

        return idempotent_response(request, scope=f"invoices.{invoice.pk}.credit-notes", perform=perform)

    @extend_schema(request=None, responses=PDF_RESPONSES)
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, id: str) -> Any:
        invoice = self.get_object()
        document = Document.objects.filter(invoice=invoice).first()
        if invoice.is_draft or document is None:
            raise InvoiceNotIssued("Drafts have no PDF; issue the invoice first.")
        return document_response(document)


class CreditNotePdfView(APIView):
    """A credit note's PDF, numbered in the location's credit note series: the PDF, or 202 while it renders."""

    permission_classes = (ReadBilling,)

    @extend_schema(responses=PDF_RESPONSES)
    def get(self, request: Request, id: str) -> Any:
        note = get_object_or_404(selectors.credit_notes_for(request.user), public_id=id)
        return document_response(get_object_or_404(Document, credit_note=note))
