"""Patients (reception) and clearance (clinicians)."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from backend.fields import PublicIdField
from backend.models import AuditEvent
from backend.permissions import IsAdmin, acting_user
from scheduling import selectors
from scheduling.api.setup import FeedOutput, GroupDefaultMixin
from scheduling.filters import PatientFilter
from scheduling.models import Clearance, ClearanceStatus, Patient, ReferringProvider, validate_timezone
from scheduling.permissions import (
    CalendarFeedAccess,
    CanRecordClearance,
    ReferringProviderAccess,
    StaffReadPatientWrite,
)
from scheduling.services.calendar_feeds import feed_revoke, feed_rotate, feed_url
from scheduling.services.clearance import clearance_record


class PatientSerializer(GroupDefaultMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    group = PublicIdField(name="clinic group", scope=selectors.groups_for, required=False, write_only=True)
    timezone = serializers.CharField(validators=[validate_timezone], default="America/New_York")
    clearance_status = serializers.CharField(read_only=True, allow_null=True, default=None)
    clearance_valid_until = serializers.DateField(read_only=True, allow_null=True, default=None)
    referrer = PublicIdField(
        name="referring provider", scope=selectors.referring_providers_for, required=False, allow_null=True,
        help_text="The referring provider's record (/api/v1/referring-providers/).",
    )  # fmt: skip

    class Meta:
        model = Patient
        fields = (
            "id", "group", "first_name", "last_name", "date_of_birth", "email", "phone", "timezone",
            "email_consent", "sms_consent", "address", "designated_driver", "referring_provider", "referrer",
            "diagnosis_codes",
            "clearance_status", "clearance_valid_until",
        )  # fmt: skip
        extra_kwargs = {"diagnosis_codes": {"max_length": 12}}  # a claim form has 12 diagnosis pointers (A-L)

    def validate_phone(self, value: str) -> str:
        cleaned = value.replace(" ", "").replace("-", "")
        if cleaned and not (cleaned.startswith("+") and cleaned[1:].isdigit() and 8 <= len(cleaned) <= 16):
            raise serializers.ValidationError("Use the international format, e.g. +15551234567.")
        return cleaned

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("sms_consent") and not (attrs.get("phone") or getattr(self.instance, "phone", "")):
            raise serializers.ValidationError({"phone": ["A phone number is needed for SMS consent."]})
        if attrs.get("email_consent") and not (attrs.get("email") or getattr(self.instance, "email", "")):
            raise serializers.ValidationError({"email": ["An email address is needed for email consent."]})
        referrer, group = attrs.get("referrer"), attrs.get("group") or getattr(self.instance, "group", None)
        if referrer is not None and group is not None and referrer.group_id != group.pk:
            raise serializers.ValidationError({"referrer": ["Not in the patient's clinic group."]})
        return attrs


class ClearanceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.ChoiceField(choices=ClearanceStatus.choices)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = Clearance
        fields = ("id", "status", "valid_until", "notes", "recorded_by", "recorded_at")
        read_only_fields = ("recorded_at",)


class AccessLogOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    username = serializers.CharField(source="actor_username")
    roles = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    ip = serializers.CharField(allow_null=True)
    status = serializers.IntegerField(source="details.status", allow_null=True, default=None)


class PatientViewSet(viewsets.ModelViewSet):
    serializer_class = PatientSerializer
    permission_classes = (StaffReadPatientWrite,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = PatientFilter
    http_method_names = ("get", "post", "put", "patch", "head", "options")

    def get_queryset(self) -> QuerySet[Patient]:
        latest = Clearance.objects.filter(patient=OuterRef("pk")).order_by("-recorded_at", "-id")
        return selectors.patients_for(self.request.user).annotate(
            clearance_status=Subquery(latest.values("status")[:1]),
            clearance_valid_until=Subquery(latest.values("valid_until")[:1]),
        )

    @extend_schema(
        request=ClearanceSerializer, responses={201: ClearanceSerializer, 200: ClearanceSerializer(many=True)}
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[CanRecordClearance], pagination_class=None,
            filter_backends=[])  # fmt: skip
    def clearance(self, request: Request, id: str) -> Response:
        patient = self.get_object()
        if request.method == "GET":
            return Response(ClearanceSerializer(patient.clearances.select_related("recorded_by"), many=True).data)
        serializer = ClearanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record = clearance_record(
            actor=acting_user(request),
            patient=patient,
            status=data["status"],
            valid_until=data.get("valid_until"),
            notes=data.get("notes", ""),
        )
        return Response(ClearanceSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: FeedOutput, 204: None})
    @action(
        detail=True,
        methods=["post", "delete"],
        url_path="calendar-feed",
        permission_classes=[CalendarFeedAccess],
        filter_backends=[],
        pagination_class=None,
        http_method_names=["post", "delete", "options"],
    )  # fmt: skip  (patients are never deleted; feeds are)
    def calendar_feed(self, request: Request, id: str) -> Response:
        """POST: a new private calendar address of the patient's visits (the old one stops working); DELETE:
        none. Reception, admins and the patient themselves."""
        patient = self.get_object()
        if request.method == "DELETE":
            feed_revoke(patient=patient)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(FeedOutput({"url": feed_url(feed_rotate(patient=patient))}).data)

    @extend_schema(responses=AccessLogOutput(many=True))
    @action(detail=True, methods=["get"], url_path="access-log", permission_classes=[IsAdmin], filter_backends=[])
    def access_log(self, request: Request, id: str) -> Response:
        """Who saw or changed this patient's records, newest first (admins only)."""
        patient = self.get_object()
        events = AuditEvent.access_log(patient.public_id)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AccessLogOutput(page, many=True).data)


class ReferringProviderSerializer(GroupDefaultMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    group = PublicIdField(name="clinic group", scope=selectors.groups_for, required=False, write_only=True)

    class Meta:
        model = ReferringProvider
        fields = ("id", "group", "name", "credentials", "practice", "npi", "phone", "fax", "email", "address",
                  "is_active")  # fmt: skip


class ReferringProviderViewSet(viewsets.ModelViewSet):
    """The providers who refer patients: letters about the patients they referred go to them."""

    serializer_class = ReferringProviderSerializer
    permission_classes = (ReferringProviderAccess,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filter_backends = ()
    http_method_names = ("get", "post", "put", "patch", "head", "options")

    def get_queryset(self) -> QuerySet[ReferringProvider]:
        return selectors.referring_providers_for(self.request.user).order_by("name", "pk")
