"""Payments: list and read, deposits, refunds, receipts."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.documents import PDF_RESPONSES, document_response
from backend.fields import MoneyField, PublicIdField, zoned
from backend.filters import AwareDateTimeFilter
from backend.idempotency import idempotent_response
from backend.models import User
from backend.money import money_text
from backend.permissions import acting_user
from billing import selectors
from billing.models import Document, Payment, PaymentMethod, Refund
from billing.permissions import ReadBilling, TakePayments
from billing.permissions import Refund as MayRefund
from billing.services.payments import deposit_record, refund_record
from scheduling import selectors as scheduling_selectors
from scheduling.filters import LocationFilter


class PaymentInput(serializers.Serializer):
    amount = MoneyField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    currency = serializers.CharField(max_length=3, required=False, help_text="Defaults to the invoice's currency")


class DepositInput(PaymentInput):
    patient = PublicIdField(name="patient", scope=scheduling_selectors.patients_for)
    location = PublicIdField(name="location", scope=scheduling_selectors.locations_for)
    series = PublicIdField(name="series", scope=scheduling_selectors.series_for, required=False, allow_null=True)


class RefundInput(serializers.Serializer):
    amount = MoneyField()
    reason = serializers.CharField(max_length=500)


class DocumentLinkOutput(serializers.Serializer):
    status = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)


class RefundOutput(serializers.Serializer):
    id = serializers.UUIDField()
    amount = serializers.CharField()
    reason = serializers.CharField()
    refunded_at = serializers.CharField()
    receipt = DocumentLinkOutput()


class PaymentOutput(serializers.Serializer):
    """A payment: ``applied`` went to invoices, ``unapplied`` is held as the patient's credit."""

    id = serializers.UUIDField()
    invoice = serializers.UUIDField(allow_null=True)
    invoice_number = serializers.CharField(allow_null=True)
    patient = serializers.UUIDField()
    location = serializers.UUIDField()
    is_deposit = serializers.BooleanField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    method = serializers.CharField()
    reference = serializers.CharField()
    received_at = serializers.CharField()
    applied = serializers.CharField()
    refunded = serializers.CharField()
    unapplied = serializers.CharField()
    receipt = DocumentLinkOutput()
    refunds = RefundOutput(many=True)


class RefundCreatedOutput(RefundOutput):
    payment = PaymentOutput(help_text="The payment refunded, as it now stands (refunded, applied, its refunds).")


def _link(document: Document | None, url: str, request: Request | None) -> dict[str, Any]:
    if document is None:
        return {"status": None, "url": None}
    return {"status": document.status, "url": request.build_absolute_uri(url) if request else url}


def _receipt_of(owner: Payment | Refund) -> Document | None:
    try:
        return owner.receipt
    except Document.DoesNotExist:
        return None


def refund_data(refund: Refund, zone: Any, request: Request | None) -> dict[str, Any]:
    url = f"/api/v1/refunds/{refund.public_id}/receipt/"
    return {
        "id": str(refund.public_id),
        "amount": money_text(refund.amount, refund.payment.currency),
        "reason": refund.reason,
        "refunded_at": zoned(refund.refunded_at, zone),
        "receipt": _link(_receipt_of(refund), url, request),
    }


def payment_data(payment: Payment, request: Request | None) -> dict[str, Any]:
    zone = payment.location.zone
    invoice = payment.invoice
    url = f"/api/v1/payments/{payment.public_id}/receipt/"
    return {
        "id": str(payment.public_id),
        "invoice": str(invoice.public_id) if invoice else None,
        "invoice_number": invoice.number if invoice else None,
        "patient": str(payment.patient.public_id),
        "location": str(payment.location.public_id),
        "is_deposit": payment.is_deposit,
        "amount": money_text(payment.amount, payment.currency),
        "currency": payment.currency,
        "method": payment.method,
        "reference": payment.reference,
        "received_at": zoned(payment.received_at, zone),
        "applied": money_text(payment.applied, payment.currency),  # type: ignore[attr-defined]
        "refunded": money_text(payment.refunded, payment.currency),  # type: ignore[attr-defined]
        "unapplied": money_text(payment.unapplied, payment.currency),  # type: ignore[attr-defined]
        "receipt": _link(_receipt_of(payment), url, request),
        "refunds": [refund_data(refund, zone, request) for refund in payment.refunds.all()],
    }


def payment_output(payment: Payment, actor: User, request: Request | None) -> dict[str, Any]:
    return payment_data(selectors.payments_for(actor).get(pk=payment.pk), request)


class PaymentFilter(django_filters.FilterSet):
    received_from = AwareDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_to = AwareDateTimeFilter(field_name="received_at", lookup_expr="lt")
    patient = django_filters.UUIDFilter(field_name="patient__public_id")
    location = LocationFilter()
    invoice = django_filters.UUIDFilter(field_name="invoice__public_id")
    method = django_filters.ChoiceFilter(choices=PaymentMethod.choices)
    is_deposit = django_filters.BooleanFilter()

    class Meta:
        model = Payment
        fields = ("received_from", "received_to", "patient", "location", "invoice", "method", "is_deposit")


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments the user may see; ``POST`` records a deposit (no invoice yet), held as credit."""

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_class = PaymentFilter
    serializer_class = PaymentOutput

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve", "receipt"):
            return [ReadBilling()]
        if self.action == "refunds":
            return [MayRefund()]
        return [TakePayments()]

    def get_queryset(self) -> QuerySet[Payment]:
        return selectors.payments_for(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([payment_data(payment, request) for payment in page or []])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(payment_data(self.get_object(), request))

    @extend_schema(request=DepositInput, responses={201: PaymentOutput})
    def create(self, request: Request) -> Response:
        data = DepositInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = acting_user(request)

        def perform() -> tuple[int, Any]:
            payment = deposit_record(
                actor=actor, patient=values["patient"], location=values["location"], amount=values["amount"],
                method=values["method"], currency=values.get("currency"), reference=values["reference"],
                series=values.get("series"),
            )  # fmt: skip
            return status.HTTP_201_CREATED, payment_output(payment, actor, request)

        return idempotent_response(request, scope="payments.deposit", perform=perform)

    @extend_schema(request=RefundInput, responses={201: RefundCreatedOutput})
    @action(detail=True, methods=["post"])
    def refunds(self, request: Request, id: str) -> Response:
        """Refund part or all of a payment: the answer is the refund, with the payment as it now stands."""
        payment = self.get_object()
        data = RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        actor = acting_user(request)

        def perform() -> tuple[int, Any]:
            created = refund_record(actor=actor, payment=payment, amount=data.validated_data["amount"],
                                    reason=data.validated_data["reason"])  # fmt: skip
            body = refund_data(created, payment.location.zone, request)
            return status.HTTP_201_CREATED, {**body, "payment": payment_output(payment, actor, request)}

        return idempotent_response(request, scope=f"payments.{payment.pk}.refunds", perform=perform)

    @extend_schema(request=None, responses=PDF_RESPONSES)
    @action(detail=True, methods=["get"])
    def receipt(self, request: Request, id: str) -> Any:
        document = get_object_or_404(Document, payment=self.get_object())
        return document_response(document)


class RefundReceiptView(APIView):
    """The receipt of a refund: the PDF, or 202 while it renders."""

    permission_classes = (ReadBilling,)

    @extend_schema(responses=PDF_RESPONSES)
    def get(self, request: Request, id: str) -> Any:
        refund = get_object_or_404(selectors.refunds_for(request.user), public_id=id)
        return document_response(get_object_or_404(Document, refund=refund))
