"""Availability search and appointments: book, list, move, and status changes."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.fields import AwareDateTimeField, LocalDateTimeField, PublicIdField, ZonedDateTimeField, zoned
from backend.idempotency import idempotent_response
from backend.permissions import IsStaff, acting_user
from backend.throttling import BookingThrottle
from scheduling import selectors
from scheduling.filters import AppointmentFilter
from scheduling.models import Appointment, Location
from scheduling.permissions import AppointmentAccess, can_transition
from scheduling.services.appointments import appointment_book, appointment_reschedule
from scheduling.services.availability import MAX_WINDOW, AvailabilityQuery, availability_search
from scheduling.services.transitions import appointment_transition, possible_actions
from scheduling.time import to_utc

# --- output ----------------------------------------------------------------------------


class AppointmentStaffOutput(serializers.Serializer):
    id = serializers.UUIDField(source="staff.public_id")
    name = serializers.CharField(source="staff.name")
    role = serializers.CharField()


class NextActionOutput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["confirm", "check_in", "start", "complete", "no_show", "cancel"])
    opens_at = serializers.DateTimeField(allow_null=True, help_text="When it becomes possible; null: now.")


class AppointmentOutput(serializers.Serializer):
    """An appointment; times carry the location's local offset."""

    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    patient_name = serializers.CharField(source="patient.__str__")
    service_type = serializers.UUIDField(source="service_type.public_id")
    service_name = serializers.CharField(source="service_type.name")
    location = serializers.UUIDField(source="location.public_id")
    resource = serializers.UUIDField(source="resource.public_id")
    resource_name = serializers.CharField(source="resource.name")
    series = serializers.UUIDField(source="series.public_id", allow_null=True, default=None)
    is_integration_session = serializers.BooleanField(
        help_text="Booked with its series to follow one of its visits (it moves with that visit)."
    )
    staff = AppointmentStaffOutput(source="staff_assignments", many=True)
    start = ZonedDateTimeField()
    end = ZonedDateTimeField()
    recovery_until = ZonedDateTimeField(source="hold_until")
    status = serializers.CharField()
    cancel_reason = serializers.CharField()
    cancelled_late = serializers.BooleanField()
    cancelled_at = ZonedDateTimeField(allow_null=True)
    next_actions = serializers.SerializerMethodField(
        help_text="The status changes the visit allows, each with when it becomes possible (null: now)."
    )

    @extend_schema_field(NextActionOutput(many=True))
    def get_next_actions(self, instance: Appointment) -> list[dict[str, str | None]]:
        zone = instance.location.zone
        return [{"action": name, "opens_at": zoned(at, zone)} for name, at in possible_actions(instance).items()]

    def to_representation(self, instance: Appointment) -> dict[str, Any]:
        """The fields above, built directly: lists of 100 render several times faster than field by field."""
        zone = instance.location.zone
        patient = instance.patient
        return {
            "id": str(instance.public_id),
            "patient": str(patient.public_id),
            "patient_name": f"{patient.first_name} {patient.last_name}",
            "service_type": str(instance.service_type.public_id),
            "service_name": instance.service_type.name,
            "location": str(instance.location.public_id),
            "resource": str(instance.resource.public_id),
            "resource_name": instance.resource.name,
            "series": str(instance.series.public_id) if instance.series is not None else None,
            "is_integration_session": instance.is_integration_session,
            "staff": [
                {"id": str(part.staff.public_id), "name": part.staff.name, "role": part.role}
                for part in instance.staff_assignments.all()
            ],
            "start": zoned(instance.start, zone),
            "end": zoned(instance.end, zone),
            "recovery_until": zoned(instance.hold_until, zone),
            "status": instance.status,
            "cancel_reason": instance.cancel_reason,
            "cancelled_late": instance.cancelled_late,
            "cancelled_at": zoned(instance.cancelled_at, zone),
            "next_actions": self.get_next_actions(instance),
        }


class ReminderOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    channel = serializers.CharField()
    offset_hours = serializers.IntegerField(allow_null=True)
    due_at = ZonedDateTimeField(zone_from="appointment.location")
    status = serializers.CharField()
    sent_at = ZonedDateTimeField(zone_from="appointment.location", allow_null=True)
    attempts = serializers.IntegerField()


# --- input -----------------------------------------------------------------------------


class StartInput(serializers.Serializer):
    """``start`` with its offset, or ``local_start`` as wall-clock time at the location."""

    start = AwareDateTimeField(required=False)
    local_start = LocalDateTimeField(required=False)

    def resolve_start(self, location: Location) -> datetime:
        data = self.validated_data
        if ("start" in data) == ("local_start" in data):
            raise serializers.ValidationError({"start": ["Give either start (with offset) or local_start."]})
        if "start" in data:
            return data["start"]
        local = data["local_start"]
        return to_utc(local.date(), time(local.hour, local.minute, local.second), location.zone)


class AppointmentCreateInput(StartInput):
    patient = PublicIdField(name="patient", scope=selectors.patients_for)
    service_type = PublicIdField(name="service type", scope=selectors.service_types_for)
    location = PublicIdField(name="location", scope=selectors.locations_for)
    resource = PublicIdField(name="resource", scope=selectors.resources_for, required=False, allow_null=True)
    staff = PublicIdField(name="staff member", scope=selectors.staff_for, many=True, required=False)


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ClearanceOverrideInput(serializers.Serializer):
    clearance_override = serializers.CharField(
        max_length=500, required=False, default="",
        help_text="A clinician's reason to go ahead although the patient is not cleared on the visit's day "
        "(recorded in the audit trail).",
    )  # fmt: skip


# --- views ---------------------------------------------------------------------------------


class AppointmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Appointments the user may see. Reception and admins book and move; status changes by role."""

    permission_classes = (AppointmentAccess,)
    throttle_classes = (BookingThrottle,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = AppointmentFilter
    serializer_class = AppointmentOutput
    http_method_names = ("get", "post", "patch", "head", "options")

    def get_queryset(self) -> QuerySet[Appointment]:
        return selectors.appointments_for(self.request.user)

    def _output(self, appointment: Appointment, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=appointment.pk)
        return Response(AppointmentOutput(fresh).data, status=status_code)

    @extend_schema(request=AppointmentCreateInput, responses={201: AppointmentOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AppointmentCreateInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        start = data.resolve_start(values["location"])

        def perform() -> tuple[int, Any]:
            appointment = appointment_book(
                actor=acting_user(request),
                patient=values["patient"],
                service_type=values["service_type"],
                location=values["location"],
                start=start,
                resource=values.get("resource"),
                staff=values.get("staff", []),
            )
            return status.HTTP_201_CREATED, AppointmentOutput(self.get_queryset().get(pk=appointment.pk)).data

        return idempotent_response(request, scope="appointments.create", perform=perform)

    @extend_schema(request=StartInput, responses=AppointmentOutput)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        appointment = self.get_object()
        data = StartInput(data=request.data)
        data.is_valid(raise_exception=True)
        moved = appointment_reschedule(
            actor=acting_user(request), appointment=appointment, start=data.resolve_start(appointment.location)
        )
        return self._output(moved)

    def _authorized(self, request: Request, name: str) -> Appointment:
        """The appointment, if the caller may see it (else 404) and make this change (else 403)."""
        appointment = self.get_object()
        if not can_transition(request.user, name):
            raise PermissionDenied(f"Your role may not {name.replace('_', ' ')} appointments.")
        return appointment

    def _transition(self, request: Request, name: str, reason: str = "", clearance_override: str = "") -> Response:
        appointment = self._authorized(request, name)
        changed = appointment_transition(
            actor=acting_user(request), appointment=appointment, action=name, reason=reason,
            clearance_override=clearance_override,
        )  # fmt: skip
        return self._output(changed)

    def _clinical_transition(self, request: Request, name: str) -> Response:
        self._authorized(request, name)
        payload = ClearanceOverrideInput(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._transition(request, name, clearance_override=payload.validated_data["clearance_override"])

    @extend_schema(request=None, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def confirm(self, request: Request, id: str) -> Response:
        return self._transition(request, "confirm")

    @extend_schema(request=ClearanceOverrideInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], url_path="check-in", permission_classes=[IsAuthenticated])
    def check_in(self, request: Request, id: str) -> Response:
        return self._clinical_transition(request, "check_in")

    @extend_schema(request=ClearanceOverrideInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def start(self, request: Request, id: str) -> Response:
        return self._clinical_transition(request, "start")

    @extend_schema(request=None, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def complete(self, request: Request, id: str) -> Response:
        return self._transition(request, "complete")

    @extend_schema(request=None, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], url_path="no-show", permission_classes=[IsAuthenticated])
    def no_show(self, request: Request, id: str) -> Response:
        return self._transition(request, "no_show")

    @extend_schema(request=None, responses=ReminderOutput(many=True))
    @action(
        detail=True, methods=["get"], permission_classes=[IsAuthenticated], pagination_class=None, filter_backends=[]
    )
    def reminders(self, request: Request, id: str) -> Response:
        """The visit's reminders and their state (the outbox rows)."""
        appointment = self.get_object()
        rows = appointment.reminders.select_related("appointment__location").order_by("due_at", "channel")
        return Response(ReminderOutput(rows, many=True).data)

    @extend_schema(request=CancelInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def cancel(self, request: Request, id: str) -> Response:
        self._authorized(request, "cancel")  # who may cancel is answered before what they sent
        payload = CancelInput(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._transition(request, "cancel", payload.validated_data["reason"])


# --- availability ------------------------------------------------------------------------


class AvailabilityQueryInput(serializers.Serializer):
    location = PublicIdField(name="location", scope=selectors.locations_for)
    service_type = PublicIdField(name="service type", scope=selectors.service_types_for)
    start_from = AwareDateTimeField()
    to = AwareDateTimeField()
    patient = PublicIdField(name="patient", scope=selectors.patients_for, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to"] <= attrs["start_from"]:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        if attrs["to"] - attrs["start_from"] > MAX_WINDOW:
            raise serializers.ValidationError({"to": [f"Search at most {MAX_WINDOW.days} days at once."]})
        if attrs["service_type"].group_id != attrs["location"].group_id:
            raise serializers.ValidationError({"service_type": ["Not offered at this location."]})
        return attrs


class SlotOutput(serializers.Serializer):
    start = serializers.CharField()
    end = serializers.CharField()
    resource = serializers.UUIDField()
    resource_name = serializers.CharField()
    staff = serializers.ListField(child=serializers.UUIDField())


class AvailabilityView(APIView):
    """Bookable starts for a service at a location: open, a resource free, all required staff free."""

    permission_classes = (IsStaff,)

    @extend_schema(
        parameters=[
            OpenApiParameter("location", str, required=True),
            OpenApiParameter("service_type", str, required=True),
            OpenApiParameter("from", str, required=True, description="ISO 8601 with offset"),
            OpenApiParameter("to", str, required=True, description="ISO 8601 with offset"),
            OpenApiParameter("patient", str, required=False, description="Also leave out the patient's busy times"),
        ],
        responses=SlotOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params.dict()
        if "from" in params:
            params["start_from"] = params.pop("from")
        data = AvailabilityQueryInput(data=params, context={"request": request})
        if not data.is_valid():
            errors = dict(data.errors)
            if "start_from" in errors:
                errors["from"] = errors.pop("start_from")
            raise serializers.ValidationError(errors)
        values = data.validated_data
        location: Location = values["location"]
        placements = availability_search(
            AvailabilityQuery(
                location=location,
                service_type=values["service_type"],
                window_start=values["start_from"],
                window_end=values["to"],
                patient=values.get("patient"),
            )
        )
        zone = location.zone
        slots = [
            {
                "start": zoned(placement.start, zone),
                "end": zoned(placement.end, zone),
                "resource": str(placement.resource.public_id),
                "resource_name": placement.resource.name,
                "staff": [str(member.public_id) for member, _role in placement.staff],
            }
            for placement in placements
        ]
        return Response(slots)
