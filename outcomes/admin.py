"""Admin pages: clinics add their own instruments without code; measures and alerts are shown, never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from backend.access import scoped
from backend.admin import GroupScopedAdmin, ReadOnlyInline, RecordAdmin, ScopedInline
from outcomes.models import (
    AlertRule,
    Instrument,
    InstrumentItem,
    InstrumentOption,
    Letter,
    LocationSafety,
    MaintenancePolicy,
    MaintenanceSuggestion,
    Measure,
    MeasureSchedule,
    SafetyAlert,
    SeverityBand,
)
from outcomes.permissions import CLINICAL_ROLES, FOLLOW_UP_ROLES


class InstrumentPart(ScopedInline):
    read_roles = CLINICAL_ROLES

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return InstrumentAdmin.editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return InstrumentAdmin.editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return InstrumentAdmin.editable(obj) and super().has_delete_permission(request, obj)


class ItemInline(InstrumentPart):
    model = InstrumentItem


class OptionInline(InstrumentPart):
    model = InstrumentOption


class BandInline(InstrumentPart):
    model = SeverityBand


class AlertRuleInline(InstrumentPart):
    model = AlertRule


@admin.register(Instrument)
class InstrumentAdmin(GroupScopedAdmin):
    """A clinic's own questionnaires, beside the standard ones (read-only). A version that has measures is
    never changed: add the next version instead, and the old measures keep the scoring they were given."""

    read_roles = CLINICAL_ROLES
    list_display = ("name", "code", "version", "group", "is_active")
    list_filter = ("is_active",)
    inlines = (ItemInline, OptionInline, BandInline, AlertRuleInline)
    readonly_fields = ("public_id",)

    @staticmethod
    def editable(obj: Instrument | None) -> bool:
        return obj is None or (obj.group_id is not None and not obj.measures.exists())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        mine = scoped(request.user, Instrument.objects.all()).values("pk")
        return Instrument.objects.filter(Q(group__isnull=True) | Q(pk__in=mine))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable(obj) and super().has_delete_permission(request, obj)


@admin.register(LocationSafety)
class LocationSafetyAdmin(GroupScopedAdmin):
    group_path = "location__group"
    read_roles = CLINICAL_ROLES
    list_display = ("location", "on_call_email")


class AlertInline(ReadOnlyInline):
    model = SafetyAlert
    fields = ("status", "rules", "created_at", "acknowledged_by", "acknowledged_at", "note")
    read_roles = CLINICAL_ROLES


class ShownOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Measure)
class MeasureAdmin(ShownOnly, RecordAdmin):
    """Measures are recorded through the API and the console (scored there); shown here to clinicians."""

    group_path = "patient__group"
    read_roles = CLINICAL_ROLES
    list_display = ("patient", "instrument", "total", "severity", "taken_at", "source")
    list_filter = ("instrument__code",)
    inlines = (AlertInline,)
    readonly_fields = ("public_id",)


@admin.register(SafetyAlert)
class SafetyAlertAdmin(ShownOnly, RecordAdmin):
    """Acknowledged through the API or the console, which record who and when."""

    group_path = "patient__group"
    read_roles = CLINICAL_ROLES
    list_display = ("patient", "status", "created_at", "acknowledged_by", "acknowledged_at")
    list_filter = ("status",)


@admin.register(MeasureSchedule)
class MeasureScheduleAdmin(GroupScopedAdmin):
    """Which instruments a series template asks for, before which visits and at which follow-ups."""

    group_path = "template__group"
    read_roles = FOLLOW_UP_ROLES
    list_display = ("template", "instrument_code", "before_visits", "follow_up_weeks")


@admin.register(MaintenancePolicy)
class MaintenancePolicyAdmin(GroupScopedAdmin):
    read_roles = CLINICAL_ROLES
    list_display = ("group", "phq9_rise", "phq9_reaches", "pcl5_rise", "weeks_since_last_infusion")


@admin.register(MaintenanceSuggestion)
class MaintenanceSuggestionAdmin(ShownOnly, RecordAdmin):
    """Booked or dismissed through the API or the console, which record who and when."""

    group_path = "patient__group"
    read_roles = FOLLOW_UP_ROLES
    list_display = ("patient", "rule", "status", "created_at", "closed_by")
    list_filter = ("status", "rule")
    exclude = ("measure",)  # reception reads this page: no scores


@admin.register(Letter)
class LetterAdmin(ShownOnly, RecordAdmin):
    """Letters to referring providers, asked for through the API (or sent when a series is booked and ends)."""

    group_path = "patient__group"
    read_roles = CLINICAL_ROLES
    list_display = ("patient", "kind", "provider", "status", "email_status", "created_at")
    list_filter = ("kind", "status", "email_status")
    exclude = ("payload",)
