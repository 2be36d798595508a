"""django-filter sets for the list endpoints. Ids in filters are public UUIDs."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.db.models import DateField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from backend.filters import AwareDateTimeFilter
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Location,
    OfferStatus,
    Patient,
    Resource,
    ResourceKind,
    Series,
    SeriesStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)


class AtTimeZone(Func):
    """``timestamp AT TIME ZONE zone``: the wall-clock time in a per-row zone."""

    arg_joiner = " AT TIME ZONE "
    template = "(%(expressions)s)"
    arity = 2


class LocationFilter(django_filters.UUIDFilter):
    """``?location=<id>`` as ``location_id = (SELECT id ... WHERE public_id = <id>)``: the location is looked up
    once, so a list can read its rows in the order of a ``(location, ...)`` index and stop after one page. A
    join on the location's public id makes PostgreSQL sort every row the location ever had first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(field_name="location", **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        return qs.filter(location_id=Subquery(Location.objects.filter(public_id=value).values("pk")[:1]))


class ResourceFilter(django_filters.FilterSet):
    location = LocationFilter()
    kind = django_filters.ChoiceFilter(choices=ResourceKind.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Resource
        fields = ("location", "kind", "is_active")


class PatientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Name, email or phone contains")

    class Meta:
        model = Patient
        fields = ("search",)

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        for term in value.split():
            queryset = queryset.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
                | Q(phone__icontains=term)
            )
        return queryset


class AppointmentFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(method="filter_local_date", label="Local date at the location")
    start_from = AwareDateTimeFilter(field_name="start", lookup_expr="gte", label="Starts at or after")
    to = AwareDateTimeFilter(field_name="start", lookup_expr="lt", label="Starts before")
    location = LocationFilter()
    patient = django_filters.UUIDFilter(field_name="patient__public_id")
    resource = django_filters.UUIDFilter(field_name="resource__public_id")
    service_type = django_filters.UUIDFilter(field_name="service_type__public_id")
    staff = django_filters.UUIDFilter(field_name="staff_assignments__staff__public_id", distinct=True)
    status = django_filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)

    class Meta:
        model = Appointment
        fields = ("date", "start_from", "to", "location", "patient", "resource", "service_type", "staff", "status")

    query_aliases = ("from",)  # checked for empty values with the filters (backend.filters)

    def __init__(self, data=None, *args, **kwargs):
        # `from` is a Python keyword: accept it in the query string as the `start_from` filter.
        if data is not None and "from" in data:
            data = data.copy()
            data.setdefault("start_from", data.get("from"))
        super().__init__(data, *args, **kwargs)

    def filter_local_date(
        self, queryset: QuerySet[Appointment], name: str, value: datetime.date
    ) -> QuerySet[Appointment]:
        local_day = Cast(AtTimeZone(F("start"), F("location__timezone")), DateField())
        # Every zone's day lies within UTC-12 .. UTC+14 of the UTC day: a range the (location, start) index
        # serves, so a day's list reads that day, not the location's whole history.
        utc_day = datetime.datetime.combine(value, datetime.time.min, tzinfo=datetime.UTC)
        near = Q(start__gte=utc_day - datetime.timedelta(hours=14), start__lt=utc_day + datetime.timedelta(hours=36))
        return queryset.alias(local_day=local_day).filter(near, local_day=value)


class SeriesFilter(django_filters.FilterSet):
    """A patient's series, a location's, and by the status ``series_status`` derives (never stored)."""

    patient = django_filters.UUIDFilter(field_name="patient__public_id")
    location = LocationFilter()
    status = django_filters.ChoiceFilter(choices=SeriesStatus.choices, method="filter_status")

    class Meta:
        model = Series
        fields = ("patient", "location", "status")

    def filter_status(self, queryset: QuerySet[Series], name: str, value: str) -> QuerySet[Series]:
        """The SQL of ``scheduling.services.series.series_status``."""
        visits = Appointment.objects.filter(series=OuterRef("pk"))
        live = Exists(visits.exclude(status=AppointmentStatus.CANCELLED))
        ahead = Exists(visits.exclude(status__in=[AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW,
                                                   AppointmentStatus.CANCELLED]))  # fmt: skip
        cancelled = Q(cancelled_at__isnull=False) | ~live
        if value == SeriesStatus.CANCELLED:
            return queryset.filter(cancelled)
        if value == SeriesStatus.COMPLETED:
            return queryset.exclude(cancelled).exclude(ahead)
        return queryset.exclude(cancelled).filter(ahead)


class WaitlistEntryFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient__public_id")
    service_type = django_filters.UUIDFilter(field_name="service_type__public_id")
    location = django_filters.UUIDFilter(field_name="locations__public_id", distinct=True)
    series = django_filters.UUIDFilter(field_name="series__public_id")
    status = django_filters.MultipleChoiceFilter(choices=WaitlistStatus.choices)

    class Meta:
        model = WaitlistEntry
        fields = ("patient", "service_type", "location", "series", "status")


class WaitlistOfferFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OfferStatus.choices)
    patient = django_filters.UUIDFilter(field_name="entry__patient__public_id")
    entry = django_filters.UUIDFilter(field_name="entry__public_id")
    location = django_filters.UUIDFilter(field_name="slot__location__public_id")

    class Meta:
        model = WaitlistOffer
        fields = ("status", "patient", "entry", "location")
