"""Series: book, read, cancel and extend a whole set of visits; series templates."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from backend.fields import AwareDateTimeField, PublicIdField
from backend.idempotency import idempotent_response
from backend.permissions import ReadOnlyOrAdmin, acting_user
from backend.throttling import BookingThrottle
from scheduling import selectors
from scheduling.api.appointments import AppointmentOutput
from scheduling.booking.protocol import ProtocolRules
from scheduling.filters import SeriesFilter
from scheduling.models import (
    Series,
    SeriesTemplate,
)
from scheduling.permissions import CanBook, SeriesAccess
from scheduling.services.series import (
    SeriesRequest,
    series_book,
    series_cancel,
    series_extend,
    series_request,
    series_status,
)

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class SeriesOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.SerializerMethodField()
    patient = serializers.UUIDField(source="patient.public_id")
    service_type = serializers.UUIDField(source="service_type.public_id")
    location = serializers.UUIDField(source="location.public_id")
    template = serializers.UUIDField(source="template.public_id", allow_null=True, default=None)
    count = serializers.IntegerField()
    first_date = serializers.DateField()
    time = serializers.TimeField(source="local_time", format="%H:%M")
    weekdays = serializers.ListField(child=serializers.IntegerField())
    min_gap_hours = serializers.IntegerField()
    max_per_week = serializers.IntegerField(allow_null=True)
    within_days = serializers.IntegerField(allow_null=True)
    cancel_reason = serializers.CharField()
    appointments = AppointmentOutput(many=True)

    def get_status(self, series: Series) -> str:
        return series_status(series, list(series.appointments.all()))

    def to_representation(self, series: Series) -> dict[str, Any]:
        """The fields above, built directly as AppointmentOutput does (a booking answers with this)."""
        appointments = list(series.appointments.all())
        visit = AppointmentOutput()
        return {
            "id": str(series.public_id),
            "status": series_status(series, appointments),
            "patient": str(series.patient.public_id),
            "service_type": str(series.service_type.public_id),
            "location": str(series.location.public_id),
            "template": str(series.template.public_id) if series.template is not None else None,
            "count": series.count,
            "first_date": series.first_date.isoformat(),
            "time": series.local_time.strftime("%H:%M"),
            "weekdays": [int(day) for day in series.weekdays],
            "min_gap_hours": series.min_gap_hours,
            "max_per_week": series.max_per_week,
            "within_days": series.within_days,
            "cancel_reason": series.cancel_reason,
            "appointments": [visit.to_representation(appointment) for appointment in appointments],
        }


class ProtocolFields(serializers.Serializer):
    count = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    time = serializers.TimeField(required=False, input_formats=TIME_FORMATS)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, max_length=7
    )
    min_gap_hours = serializers.IntegerField(required=False, min_value=0, max_value=24 * 60)
    max_per_week = serializers.IntegerField(required=False, min_value=0, max_value=7, allow_null=True)
    within_days = serializers.IntegerField(required=False, min_value=0, max_value=366, allow_null=True)


class SeriesInput(ProtocolFields):
    """The shape of a series booking; the service merges the template with the rules given."""

    patient = PublicIdField(name="patient", scope=selectors.patients_for)
    service_type = PublicIdField(name="service type", scope=selectors.service_types_for, required=False)
    location = PublicIdField(name="location", scope=selectors.locations_for)
    template = PublicIdField(name="series template", scope=selectors.series_templates_for, required=False)
    first_date = serializers.DateField()
    resource = PublicIdField(name="resource", scope=selectors.resources_for, required=False, allow_null=True)
    accept_alternatives = serializers.BooleanField(default=False)

    def series_request(self) -> SeriesRequest:
        """The validated input as the booking service takes it (raises its 400s: template, service type...)."""
        values = self.validated_data
        weekdays = values.get("weekdays")
        rules = ProtocolRules(
            count=values.get("count"), local_time=values.get("time"),
            weekdays=tuple(weekdays) if weekdays is not None else None, min_gap_hours=values.get("min_gap_hours"),
            max_per_week=values.get("max_per_week"), within_days=values.get("within_days"),
        )  # fmt: skip
        return series_request(
            patient=values["patient"], location=values["location"], first_date=values["first_date"],
            service_type=values.get("service_type"), template=values.get("template"), rules=rules,
            resource=values.get("resource"),
        )  # fmt: skip


class SeriesCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    start_from = AwareDateTimeField(required=False, help_text="Cancel visits starting at or after this time.")

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "get") and "from" in data:
            data = {**dict(data.items()), "start_from": data.get("from")}
        return super().to_internal_value(data)


class SeriesExtendInput(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=52)
    first_date = serializers.DateField(required=False)
    time = serializers.TimeField(required=False, input_formats=TIME_FORMATS)
    service_type = PublicIdField(name="service type", scope=selectors.service_types_for, required=False)
    accept_alternatives = serializers.BooleanField(default=False)


class SeriesViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A series as one unit: its protocol, status and appointments."""

    permission_classes = (SeriesAccess,)
    throttle_classes = (BookingThrottle,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    serializer_class = SeriesOutput
    filterset_class = SeriesFilter

    def get_queryset(self) -> QuerySet[Series]:
        appointments = selectors.appointments_for(self.request.user)
        return (
            selectors.series_for(self.request.user)
            .select_related("patient", "service_type", "location", "template")
            .prefetch_related(Prefetch("appointments", queryset=appointments.order_by("start")))
        )

    def _output(self, series: Series, status_code: int = status.HTTP_200_OK) -> tuple[int, Any]:
        return status_code, SeriesOutput(self.get_queryset().get(pk=series.pk)).data

    @extend_schema(request=SeriesInput, responses={201: SeriesOutput})
    def create(self, request: Request) -> Response:
        data = SeriesInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def perform() -> tuple[int, Any]:
            series = series_book(
                actor=acting_user(request),
                request=data.series_request(),
                accept_alternatives=values["accept_alternatives"],
            )
            return status.HTTP_201_CREATED, SeriesOutput(series).data  # its visits are in hand: no read-back

        return idempotent_response(request, scope="series.create", perform=perform)

    @extend_schema(request=SeriesCancelInput, responses=SeriesOutput)
    @action(detail=True, methods=["post"], permission_classes=[CanBook])
    def cancel(self, request: Request, id: str) -> Response:
        series = self.get_object()
        data = SeriesCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = series_cancel(
            actor=acting_user(request), series=series, reason=data.validated_data["reason"],
            from_=data.validated_data.get("start_from"),
        )  # fmt: skip
        status_code, body = self._output(cancelled)
        return Response(body, status=status_code)

    @extend_schema(request=SeriesExtendInput, responses=SeriesOutput)
    @action(detail=True, methods=["post"], permission_classes=[CanBook])
    def extend(self, request: Request, id: str) -> Response:
        series = self.get_object()
        data = SeriesExtendInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        series_extend(
            actor=acting_user(request), series=series, count=values["count"], first_date=values.get("first_date"),
            local_time=values.get("time"), service_type=values.get("service_type"),
            accept_alternatives=values["accept_alternatives"],
        )  # fmt: skip
        status_code, body = self._output(series)
        return Response(body, status=status_code)


class SeriesTemplateSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    group = PublicIdField(name="clinic group", scope=selectors.groups_for, required=False, write_only=True)
    location = PublicIdField(name="location", scope=selectors.locations_for, required=False, allow_null=True)
    service_type = PublicIdField(name="service type", scope=selectors.service_types_for)
    local_time = serializers.TimeField(format="%H:%M", input_formats=TIME_FORMATS, required=False, allow_null=True)
    count = serializers.IntegerField(min_value=1, max_value=52)
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6), required=False)
    session_service_type = PublicIdField(
        name="service type", scope=selectors.service_types_for, required=False, allow_null=True,
        help_text="Integration sessions booked with the series, after the visits in session_after_visits.",
    )  # fmt: skip
    session_after_visits = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=52), required=False, max_length=52
    )
    session_local_time = serializers.TimeField(
        format="%H:%M", input_formats=TIME_FORMATS, required=False, allow_null=True
    )

    class Meta:
        model = SeriesTemplate
        fields = (
            "id", "group", "location", "name", "service_type", "count", "weekdays", "local_time",
            "min_gap_hours", "max_per_week", "within_days", "session_service_type", "session_after_visits",
            "session_days_after", "session_local_time",
        )  # fmt: skip
        extra_kwargs = {"session_days_after": {"max_value": 14}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        service_type = attrs.get("service_type") or getattr(self.instance, "service_type", None)
        if self.instance is None:
            attrs.setdefault("group", service_type.group if service_type else None)
        location = attrs.get("location")
        if location is not None and service_type is not None and location.group_id != service_type.group_id:
            raise serializers.ValidationError({"location": ["Not in the service type's clinic group."]})
        sessions = attrs.get("session_service_type")
        if sessions is not None and service_type is not None and sessions.group_id != service_type.group_id:
            raise serializers.ValidationError({"session_service_type": ["Not in the service type's clinic group."]})
        return attrs


class SeriesTemplateViewSet(viewsets.ModelViewSet):
    """Named protocols per location (or group-wide): "Induction: 6 in 21 days", "Maintenance booster"."""

    serializer_class = SeriesTemplateSerializer
    permission_classes = (ReadOnlyOrAdmin,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet[SeriesTemplate]:
        return SeriesTemplate.objects.filter(group__in=selectors.groups_for(self.request.user)).select_related(
            "location", "service_type"
        )
