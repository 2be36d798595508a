"""Clinic set-up (admins write, staff read): locations, hours, closures, resources, staff, service types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.fields import MoneyField, PublicIdField
from backend.permissions import IsStaff, ReadOnlyOrAdmin, user_has_role
from backend.roles import Role
from scheduling import selectors
from scheduling.filters import ResourceFilter
from scheduling.models import (
    MAX_HOLD,
    Closure,
    Location,
    OpeningRule,
    Resource,
    ServiceType,
    Shift,
    StaffMember,
    validate_timezone,
)
from scheduling.services.calendar_feeds import feed_current, feed_rotate, feed_url

MAX_HOLD_MINUTES = int(MAX_HOLD.total_seconds()) // 60


def ensure_unique(
    serializer: serializers.ModelSerializer, model: Any, attrs: dict[str, Any], fields: tuple[str, ...], message: str
) -> None:
    """Refuse a duplicate of ``fields`` (the last one named in the error), on create and on update.

    DRF's own unique-together validator is switched off on these serializers: it would make every field
    of the constraint required, and ``group`` defaults to the user's group.
    """
    values = {name: attrs.get(name, getattr(serializer.instance, name, None)) for name in fields}
    clash = model.objects.filter(**values)
    if serializer.instance is not None:
        clash = clash.exclude(pk=serializer.instance.pk)
    if clash.exists():
        raise serializers.ValidationError({fields[-1]: [message]})


class GroupDefaultMixin(serializers.Serializer):
    """``group`` defaults to the acting user's only clinic group."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.instance is None and "group" not in attrs:
            groups = list(selectors.groups_for(self.context["request"].user)[:2])
            if len(groups) != 1:
                raise serializers.ValidationError({"group": ["Choose the clinic group."]})
            attrs["group"] = groups[0]
        return attrs


class LocationSerializer(GroupDefaultMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    group = PublicIdField(name="clinic group", scope=selectors.groups_for, required=False)
    timezone = serializers.CharField(validators=[validate_timezone])

    class Meta:
        model = Location
        fields = (
            "id", "group", "name", "timezone", "currency", "address", "phone",
            "cancellation_window_hours", "check_in_opens_minutes", "no_show_grace_minutes", "slot_minutes",
            "waitlist_min_notice_minutes", "waitlist_offer_count", "waitlist_offer_minutes", "waitlist_self_join",
        )  # fmt: skip


class LocationViewSet(viewsets.ModelViewSet):
    serializer_class = LocationSerializer
    permission_classes = (ReadOnlyOrAdmin,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet[Location]:
        return selectors.locations_for(self.request.user).select_related("group")


class OpeningRuleSerializer(serializers.ModelSerializer):
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M")
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    every_n_weeks = serializers.IntegerField(min_value=1, max_value=8, default=1)

    class Meta:
        model = OpeningRule
        fields = ("weekday", "opens", "closes", "every_n_weeks", "anchor_date")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["opens"] >= attrs["closes"]:
            raise serializers.ValidationError({"closes": ["Must be after the opening time."]})
        if attrs.get("every_n_weeks", 1) > 1 and not attrs.get("anchor_date"):
            raise serializers.ValidationError(
                {"anchor_date": ["Give a date in a week when the rule applies (every_n_weeks > 1)."]}
            )
        return attrs


class ShiftSerializer(OpeningRuleSerializer):
    location = PublicIdField(name="location", scope=selectors.locations_for)

    class Meta:
        model = Shift
        fields = ("location", "weekday", "opens", "closes", "every_n_weeks", "anchor_date")


class WeeklyRulesView(APIView):
    """GET lists the rules; POST adds one; PUT replaces the whole list in one transaction."""

    permission_classes = (ReadOnlyOrAdmin,)
    serializer_class: type[serializers.ModelSerializer] = OpeningRuleSerializer

    def owner(self, request: Request, id: Any) -> Any:
        return get_object_or_404(selectors.locations_for(request.user), public_id=id)

    def rules(self, owner: Any) -> QuerySet[Any]:
        return owner.opening_rules.all()

    def owner_kwargs(self, owner: Any) -> dict[str, Any]:
        return {"location": owner}

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer:
        return self.serializer_class(*args, context={"request": self.request}, **kwargs)

    def get(self, request: Request, id: Any) -> Response:
        return Response(self.get_serializer(self.rules(self.owner(request, id)), many=True).data)

    def post(self, request: Request, id: Any) -> Response:
        owner = self.owner(request, id)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(**self.owner_kwargs(owner))
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    def put(self, request: Request, id: Any) -> Response:
        owner = self.owner(request, id)
        serializer = self.get_serializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            self.rules(owner).delete()
            serializer.save(**self.owner_kwargs(owner))
        return Response(serializer.data)


def weekly_rules_schema(serializer: type[serializers.ModelSerializer]) -> Any:
    """GET answers the list, POST takes and answers one rule, PUT takes and answers the whole list."""
    return extend_schema_view(
        get=extend_schema(responses=serializer(many=True)),
        post=extend_schema(request=serializer, responses={201: serializer}),
        put=extend_schema(request=serializer(many=True), responses=serializer(many=True)),
    )


@weekly_rules_schema(OpeningRuleSerializer)
class OpeningHoursView(WeeklyRulesView):
    pass


@weekly_rules_schema(ShiftSerializer)
class ShiftsView(WeeklyRulesView):
    serializer_class = ShiftSerializer

    def owner(self, request: Request, id: Any) -> Any:
        return get_object_or_404(selectors.staff_for(request.user), public_id=id)

    def rules(self, owner: Any) -> QuerySet[Any]:
        return owner.shifts.select_related("location")

    def owner_kwargs(self, owner: Any) -> dict[str, Any]:
        return {"staff": owner}


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Closure
        fields = ("date", "reason")


@extend_schema(parameters=[OpenApiParameter("location_id", OpenApiTypes.UUID, OpenApiParameter.PATH)])
class ClosureViewSet(viewsets.ModelViewSet):
    """A location's closed days, addressed by date: ``/locations/{id}/closures/2026-12-25/``."""

    serializer_class = ClosureSerializer
    permission_classes = (ReadOnlyOrAdmin,)
    pagination_class = None
    queryset = Closure.objects.none()
    lookup_field = "date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"
    http_method_names = ("get", "post", "delete", "head", "options")

    def location(self) -> Location:
        return get_object_or_404(selectors.locations_for(self.request.user), public_id=self.kwargs["location_id"])

    def get_queryset(self) -> QuerySet[Closure]:
        if getattr(self, "swagger_fake_view", False):
            return Closure.objects.none()
        return Closure.objects.filter(location=self.location())

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        location = self.location()
        if Closure.objects.filter(location=location, date=serializer.validated_data["date"]).exists():
            raise serializers.ValidationError({"date": ["The location is already closed that day."]})
        serializer.save(location=location)


class ResourceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    location = PublicIdField(name="location", scope=selectors.locations_for)

    class Meta:
        model = Resource
        fields = ("id", "location", "name", "kind", "is_active")
        validators: list[Any] = []  # uniqueness of (location, name) is checked in validate()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ensure_unique(self, Resource, attrs, ("location", "name"), "A resource with this name exists at the location.")
        return attrs


class ResourceViewSet(viewsets.ModelViewSet):
    serializer_class = ResourceSerializer
    permission_classes = (ReadOnlyOrAdmin,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = ResourceFilter

    def get_queryset(self) -> QuerySet[Resource]:
        return selectors.resources_for(self.request.user)


class StaffSerializer(GroupDefaultMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    group = PublicIdField(name="clinic group", scope=selectors.groups_for, required=False, write_only=True)
    locations = PublicIdField(name="location", scope=selectors.locations_for, many=True)

    class Meta:
        model = StaffMember
        fields = ("id", "group", "name", "roles", "locations", "npi", "credentials", "is_active")

    def validate_roles(self, value: list[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError("Give at least one role.")
        return value


class FeedOutput(serializers.Serializer):
    url = serializers.URLField(help_text="The private .ics address; anyone with it can read the calendar.")


class StaffViewSet(viewsets.ModelViewSet):
    serializer_class = StaffSerializer
    permission_classes = (ReadOnlyOrAdmin,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet[StaffMember]:
        return selectors.staff_for(self.request.user)

    @extend_schema(request=None, responses=FeedOutput)
    @action(detail=True, methods=["get", "post"], url_path="calendar-feed", permission_classes=[IsStaff],
            filter_backends=[], pagination_class=None)  # fmt: skip
    def calendar_feed(self, request: Request, id: str) -> Response:
        """The staff member's own visits as a private calendar address (GET: the current one, POST: a new one).
        For the staff member themselves and admins."""
        member = self.get_object()
        if member.user_id != request.user.pk and not user_has_role(request.user, Role.ADMIN):
            raise PermissionDenied("Only the staff member themselves or an administrator may see this address.")
        feed = feed_rotate(staff=member) if request.method == "POST" else feed_current(staff=member)
        return Response(FeedOutput({"url": feed_url(feed)}).data)


class ServiceTypeSerializer(GroupDefaultMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    group = PublicIdField(name="clinic group", scope=selectors.groups_for, required=False, write_only=True)
    price = MoneyField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=MAX_HOLD_MINUTES)
    recovery_minutes = serializers.IntegerField(min_value=0, max_value=MAX_HOLD_MINUTES, default=0)

    class Meta:
        model = ServiceType
        fields = (
            "id", "group", "code", "name", "duration_minutes", "recovery_minutes", "resource_kind",
            "staff_roles", "requires_clearance", "place_of_service", "price", "currency", "billing_codes",
            "reminder_offsets_hours", "prep_instructions", "fasting_hours", "arrive_early_minutes",
            "requires_driver", "is_active",
        )  # fmt: skip
        validators: list[Any] = []  # uniqueness of (group, code) is checked in validate() with a clearer message

    def validate_price(self, value: Decimal) -> Decimal:
        if value < 0 or value != round(value, 2):
            raise serializers.ValidationError("A price is zero or more, with at most 2 decimals.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        duration = attrs.get("duration_minutes", getattr(self.instance, "duration_minutes", 0))
        recovery = attrs.get("recovery_minutes", getattr(self.instance, "recovery_minutes", 0))
        if duration + recovery > MAX_HOLD_MINUTES:
            raise serializers.ValidationError({"recovery_minutes": ["Visit and recovery together exceed 12 hours."]})
        ensure_unique(self, ServiceType, attrs, ("group", "code"), "A service type with this code exists.")
        return attrs


class ServiceTypeViewSet(viewsets.ModelViewSet):
    serializer_class = ServiceTypeSerializer
    permission_classes = (ReadOnlyOrAdmin,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet[ServiceType]:
        return selectors.service_types_for(self.request.user)
