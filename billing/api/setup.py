"""Billing set-up and packages: fee schedule, location billing policy, packages and package sales."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.fields import MoneyField, PublicIdField, QuantityField
from backend.idempotency import idempotent_response
from backend.money import money_text, round_money
from backend.permissions import acting_user
from billing import selectors
from billing.errors import InvalidAmount
from billing.models import BillingPolicy, FeeScheduleItem, Package, PackageSale
from billing.money import TAX_RATE_RULE, is_tax_rate
from billing.permissions import BillingStaffReadAdminWrite, ReadBilling, SellPackages
from billing.permissions import Refund as MayRefund
from billing.services.packages import package_sale_close, package_sell, unused_value
from scheduling import selectors as scheduling_selectors


def _ensure_money(value: Any, currency: str, field: str) -> None:
    if value is not None and (value < 0 or round_money(value, currency) != value):
        raise InvalidAmount(f"{field} must be a non-negative {currency} amount.", errors={field: ["Invalid amount."]})


class FeeScheduleItemSerializer(serializers.ModelSerializer):
    """A billable line of a service type (CPT/HCPCS code, units, price); ``location`` set = that location's price."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    service_type = PublicIdField(name="service type", scope=scheduling_selectors.service_types_for)
    location = PublicIdField(name="location", scope=scheduling_selectors.locations_for, required=False,
                             allow_null=True)  # fmt: skip
    quantity = QuantityField(required=False)
    unit_price = MoneyField()

    class Meta:
        model = FeeScheduleItem
        fields = ("id", "service_type", "location", "position", "code", "modifier", "description", "quantity",
                  "unit_price", "ndc", "ndc_units", "tax_rate")  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        service = attrs.get("service_type") or getattr(self.instance, "service_type", None)
        location = attrs.get("location")
        if location is not None and service is not None and location.group_id != service.group_id:
            raise serializers.ValidationError({"location": ["Not a location of the service type's clinic."]})
        currency = FeeScheduleItem(location=location, service_type=service).currency if service else "USD"
        _ensure_money(attrs.get("unit_price"), currency, "unit_price")
        if attrs.get("quantity") is not None and attrs["quantity"] <= 0:
            raise serializers.ValidationError({"quantity": ["Must be more than zero."]})
        if attrs.get("tax_rate") is not None and not is_tax_rate(attrs["tax_rate"]):
            raise serializers.ValidationError({"tax_rate": [TAX_RATE_RULE]})
        return attrs


class FeeScheduleViewSet(viewsets.ModelViewSet):
    serializer_class = FeeScheduleItemSerializer
    permission_classes = (BillingStaffReadAdminWrite,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ("code",)
    http_method_names = ("get", "post", "put", "patch", "delete", "head", "options")

    def get_queryset(self) -> QuerySet[FeeScheduleItem]:
        services = scheduling_selectors.service_types_for(self.request.user)
        return FeeScheduleItem.objects.filter(service_type__in=services).select_related("service_type", "location")


class BillingPolicySerializer(serializers.ModelSerializer):
    supervising_provider = PublicIdField(
        name="staff member", scope=scheduling_selectors.staff_for, required=False, allow_null=True,
        help_text="Named on superbills for services whose staff have no NPI of their own.",
    )  # fmt: skip
    late_cancellation_fee = MoneyField(required=False, currency_from="location.currency")
    no_show_fee = MoneyField(required=False, currency_from="location.currency")

    class Meta:
        model = BillingPolicy
        fields = ("invoice_prefix", "credit_note_prefix", "tax_id", "npi", "late_cancellation_fee", "no_show_fee",
                  "default_tax_rate", "payment_terms_days", "xero_date_format", "supervising_provider")  # fmt: skip


class BillingPolicyView(APIView):
    """A location's billing policy: number prefixes, tax id and NPI for superbills, fees, default tax."""

    permission_classes = (BillingStaffReadAdminWrite,)

    def _policy(self, request: Request, id: str) -> BillingPolicy:
        location = get_object_or_404(scheduling_selectors.locations_for(request.user), public_id=id)
        return selectors.policy_for(location)

    @extend_schema(responses=BillingPolicySerializer)
    def get(self, request: Request, id: str) -> Response:
        return Response(BillingPolicySerializer(self._policy(request, id)).data)

    @extend_schema(request=BillingPolicySerializer, responses=BillingPolicySerializer)
    def put(self, request: Request, id: str) -> Response:
        policy = self._policy(request, id)
        serializer = BillingPolicySerializer(policy, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        currency = policy.location.currency
        for field in ("late_cancellation_fee", "no_show_fee"):
            _ensure_money(serializer.validated_data.get(field), currency, field)
        rate = serializer.validated_data.get("default_tax_rate")
        if rate is not None and not is_tax_rate(rate):
            raise serializers.ValidationError({"default_tax_rate": [TAX_RATE_RULE]})
        serializer.save()
        return Response(serializer.data)


class PackageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    location = PublicIdField(name="location", scope=scheduling_selectors.locations_for)
    service_type = PublicIdField(name="service type", scope=scheduling_selectors.service_types_for)
    price = MoneyField()
    currency = serializers.CharField(read_only=True)

    class Meta:
        model = Package
        fields = ("id", "location", "service_type", "name", "sessions", "price", "currency", "code", "is_active")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        location = attrs.get("location") or getattr(self.instance, "location", None)
        service = attrs.get("service_type") or getattr(self.instance, "service_type", None)
        if location is not None and service is not None and location.group_id != service.group_id:
            raise serializers.ValidationError({"service_type": ["Not a service of this location's clinic."]})
        if location is not None:
            _ensure_money(attrs.get("price"), location.currency, "price")
            attrs["currency"] = location.currency
        if attrs.get("sessions") is not None and attrs["sessions"] < 1:
            raise serializers.ValidationError({"sessions": ["At least one session."]})
        return attrs


class PackageViewSet(viewsets.ModelViewSet):
    serializer_class = PackageSerializer
    permission_classes = (BillingStaffReadAdminWrite,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    http_method_names = ("get", "post", "put", "patch", "head", "options")

    def get_queryset(self) -> QuerySet[Package]:
        return selectors.packages_for(self.request.user)


class PackageSaleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    package = serializers.UUIDField()
    package_name = serializers.CharField()
    patient = serializers.UUIDField()
    series = serializers.UUIDField(allow_null=True)
    invoice = serializers.UUIDField()
    invoice_number = serializers.CharField()
    sessions = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    price = serializers.CharField()
    currency = serializers.CharField()
    unused_value = serializers.CharField()
    status = serializers.CharField()


def sale_data(sale: PackageSale) -> dict[str, Any]:
    used = sale.used  # type: ignore[attr-defined]
    return {
        "id": str(sale.public_id),
        "package": str(sale.package.public_id),
        "package_name": sale.package.name,
        "patient": str(sale.patient.public_id),
        "series": str(sale.series.public_id) if sale.series else None,
        "invoice": str(sale.invoice.public_id),
        "invoice_number": sale.invoice.number,
        "sessions": sale.sessions,
        "used": used,
        "remaining": sale.sessions - used,
        "price": money_text(sale.price, sale.currency),
        "currency": sale.currency,
        "unused_value": money_text(unused_value(sale, used) if sale.status == "active" else Decimal(0), sale.currency),
        "status": sale.status,
    }


class PackageSaleInput(serializers.Serializer):
    package = PublicIdField(name="package", scope=selectors.packages_for)
    patient = PublicIdField(name="patient", scope=scheduling_selectors.patients_for)
    series = PublicIdField(name="series", scope=scheduling_selectors.series_for, required=False, allow_null=True)


class CloseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="Unused package sessions")


class PackageSaleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Packages sold. Selling issues the package invoice; ``close`` refunds unused sessions pro rata."""

    serializer_class = PackageSaleOutput
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_fields = ("status",)

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve"):
            return [ReadBilling()]
        if self.action == "close":
            return [MayRefund()]
        return [SellPackages()]

    def get_queryset(self) -> QuerySet[PackageSale]:
        return selectors.package_sales_for(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([sale_data(sale) for sale in page or []])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(sale_data(self.get_object()))

    @extend_schema(request=PackageSaleInput, responses={201: PackageSaleOutput})
    def create(self, request: Request) -> Response:
        data = PackageSaleInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor = acting_user(request)

        def perform() -> tuple[int, Any]:
            sale = package_sell(actor=actor, package=values["package"], patient=values["patient"],
                                series=values.get("series"))  # fmt: skip
            return status.HTTP_201_CREATED, sale_data(selectors.package_sales_for(actor).get(pk=sale.pk))

        return idempotent_response(request, scope="package-sales.create", perform=perform)

    @extend_schema(request=CloseInput, responses=PackageSaleOutput)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, id: str) -> Response:
        sale = self.get_object()
        data = CloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        package_sale_close(actor=acting_user(request), sale=sale, reason=data.validated_data["reason"])
        return Response(sale_data(self.get_queryset().get(pk=sale.pk)))
