"""The waitlist API: entries (reception adds, edits and removes them) and the offers of freed visits.

Claims are not here: the patient claims through the offer's link page (``/r/offer/<token>/``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.fields import PublicIdField, ZonedDateTimeField
from backend.permissions import acting_user
from backend.reports import ReportCSVRenderer, ReportFormats, ReportOutput, ReportXLSXRenderer
from scheduling import selectors
from scheduling.api.ranges import LocationDateRange, report_range
from scheduling.filters import WaitlistEntryFilter, WaitlistOfferFilter
from scheduling.models import WaitlistEntry, validate_time_windows
from scheduling.permissions import CanReadWaitlist, WaitlistAccess, can_book
from scheduling.reports import waitlist_refill_report
from scheduling.services.waitlist import (
    EntryFields,
    waitlist_entry_add,
    waitlist_entry_change,
    waitlist_entry_remove,
)

TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class TimeWindowsField(serializers.ListField):
    """``[["09:00", "12:00"], ...]``: local start-time windows."""

    child = serializers.ListField(
        child=serializers.RegexField(TIME_PATTERN, error_messages={"invalid": "Use HH:MM, e.g. 09:30."}),
        min_length=2, max_length=2,
    )  # fmt: skip

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=7, **kwargs)

    def to_internal_value(self, data: Any) -> list[list[str]]:
        windows = super().to_internal_value(data)
        try:
            validate_time_windows(windows)
        except Exception as error:  # django's ValidationError: the message, as a field error
            raise serializers.ValidationError(getattr(error, "messages", [str(error)])) from error
        return windows


class WaitlistEntryInput(serializers.Serializer):
    patient = PublicIdField(name="patient", scope=selectors.patients_for)
    service_type = PublicIdField(name="service type", scope=selectors.service_types_for)
    locations = serializers.ListField(
        child=PublicIdField(name="location", scope=selectors.locations_for), min_length=1, max_length=50
    )
    series = PublicIdField(
        name="series", scope=selectors.series_for, required=False, allow_null=True,
        help_text="The series whose visit the patient waits for. Left out: their current series of this service, "
        "if they are mid-way through one.",
    )  # fmt: skip
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), max_length=7, required=False,
        help_text="0 = Monday ... 6 = Sunday; empty: any day.",
    )  # fmt: skip
    time_windows = TimeWindowsField(required=False, help_text='Local start times, e.g. [["09:00", "12:00"]].')
    earliest_date = serializers.DateField(required=False, allow_null=True)
    latest_date = serializers.DateField(required=False, allow_null=True)
    priority = serializers.IntegerField(min_value=-100, max_value=100, required=False, help_text="Higher first.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def fields_of(self, current: WaitlistEntry | None = None) -> EntryFields:
        """The entry's fields: the data given, and for a partial update the entry's own for the rest."""
        data = self.validated_data
        base: dict[str, Any] = {}
        if current is not None:
            base = {"service_type": current.service_type, "locations": list(current.locations.all()),
                    "series": current.series, "weekdays": current.weekdays, "time_windows": current.time_windows,
                    "earliest_date": current.earliest_date, "latest_date": current.latest_date,
                    "priority": current.priority, "note": current.note}  # fmt: skip
        given = {name: value for name, value in data.items() if name != "patient"}
        return EntryFields(**{**base, **given})


class WaitlistEntryChangeInput(WaitlistEntryInput):
    """An entry's new fields: the patient stays who it is."""

    patient = None  # type: ignore[assignment]


class SelfJoinInput(WaitlistEntryInput):
    """A patient's own request from the console: the locations that take them, and no priority."""

    locations = serializers.ListField(
        child=PublicIdField(name="location", scope=selectors.self_join_locations_for), min_length=1, max_length=50
    )
    priority = None  # type: ignore[assignment]


class WaitlistEntryOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    patient_name = serializers.CharField(source="patient.__str__")
    service_type = serializers.UUIDField(source="service_type.public_id")
    service_name = serializers.CharField(source="service_type.name")
    locations = serializers.SerializerMethodField()
    series = serializers.UUIDField(source="series.public_id", allow_null=True, default=None)
    weekdays = serializers.ListField(child=serializers.IntegerField())
    time_windows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    earliest_date = serializers.DateField(allow_null=True)
    latest_date = serializers.DateField(allow_null=True)
    priority = serializers.IntegerField()
    note = serializers.CharField()
    status = serializers.CharField()
    appointment = serializers.UUIDField(
        source="appointment.public_id", allow_null=True, default=None, help_text="The visit booked from an offer."
    )
    created_at = serializers.DateTimeField()

    def get_locations(self, entry: WaitlistEntry) -> list[str]:
        return [str(location.public_id) for location in entry.locations.all()]


class WaitlistOfferOutput(serializers.Serializer):
    """A freed visit offered to one entry; times in the location's offset."""

    id = serializers.UUIDField(source="public_id")
    entry = serializers.UUIDField(source="entry.public_id")
    patient = serializers.UUIDField(source="entry.patient.public_id")
    patient_name = serializers.CharField(source="entry.patient.__str__")
    location = serializers.UUIDField(source="slot.location.public_id")
    service_type = serializers.UUIDField(source="slot.service_type.public_id")
    start = ZonedDateTimeField(source="slot.start", zone_from="slot.location")
    status = serializers.CharField(help_text="open, claimed, taken, expired or refused")
    detail = serializers.CharField()
    offered_at = ZonedDateTimeField(source="created_at", zone_from="slot.location")
    expires_at = ZonedDateTimeField(zone_from="slot.location")
    answered_at = ZonedDateTimeField(zone_from="slot.location", allow_null=True)


class WaitlistViewSet(viewsets.ModelViewSet):
    """Who waits for what. DELETE takes the patient off the list (the entry is kept, as removed)."""

    permission_classes = (WaitlistAccess,)
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = WaitlistEntryFilter
    serializer_class = WaitlistEntryOutput

    def get_queryset(self) -> QuerySet[Any]:
        if self.action == "offers":
            return selectors.waitlist_offers_for(self.request.user).order_by("-created_at", "-id")
        return selectors.waitlist_entries_for(self.request.user).order_by("-priority", "created_at", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return WaitlistOfferOutput if self.action == "offers" else WaitlistEntryOutput

    def _output(self, entry: WaitlistEntry, code: int = status.HTTP_200_OK) -> Response:
        return Response(WaitlistEntryOutput(self.get_queryset().get(pk=entry.pk)).data, status=code)

    @extend_schema(request=WaitlistEntryInput, responses={201: WaitlistEntryOutput})
    def create(self, request: Request) -> Response:
        """Add an entry. A patient adds their own, at locations that let patients join (no priority)."""
        form = WaitlistEntryInput if can_book(request.user) else SelfJoinInput
        data = form(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        entry = waitlist_entry_add(actor=acting_user(request), patient=data.validated_data["patient"],
                                   fields=data.fields_of())  # fmt: skip
        return self._output(entry, status.HTTP_201_CREATED)

    @extend_schema(request=WaitlistEntryChangeInput, responses=WaitlistEntryOutput)
    def update(self, request: Request, id: str, partial: bool = False) -> Response:
        """Change an entry (reception's: WaitlistAccess refuses patients)."""
        entry = self.get_object()
        data = WaitlistEntryChangeInput(data=request.data, partial=partial, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = data.fields_of(entry if partial else None)
        return self._output(waitlist_entry_change(actor=acting_user(request), entry=entry, fields=fields))

    @extend_schema(request=WaitlistEntryChangeInput(partial=True), responses=WaitlistEntryOutput)
    def partial_update(self, request: Request, id: str) -> Response:
        return self.update(request, id, partial=True)

    def destroy(self, request: Request, id: str) -> Response:
        waitlist_entry_remove(actor=acting_user(request), entry=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=WaitlistOfferOutput(many=True), filters=True)
    @action(detail=False, methods=["get"], filterset_class=WaitlistOfferFilter, permission_classes=[CanReadWaitlist])
    def offers(self, request: Request) -> Response:
        """Offers of freed visits, newest first: in flight (``?status=open``) and their outcomes."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = WaitlistOfferOutput(page if page is not None else queryset, many=True).data
        return self.get_paginated_response(rows) if page is not None else Response(rows)


class WaitlistReportView(ReportFormats, APIView):
    """The waitlist's refill figure per month, location and kind of resource (``scheduling/reports.py``): chair
    and room hours freed ahead of time, the share the waitlist booked again, and the median minutes it took.
    ``?format=csv|xlsx``."""

    permission_classes = (CanReadWaitlist,)
    renderer_classes = (JSONRenderer, ReportCSVRenderer, ReportXLSXRenderer)

    @extend_schema(parameters=[LocationDateRange], responses=ReportOutput)
    def get(self, request: Request) -> Response:
        asked = report_range(request)
        locations = selectors.locations_for(request.user)
        if asked.location is not None:
            locations = locations.filter(pk=asked.location.pk)
        rows = waitlist_refill_report(locations=locations, start=asked.start, end=asked.end)
        return Response({"report": "waitlist", "parameters": asked.parameters, "rows": rows, "totals": []})
