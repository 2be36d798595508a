"""Admin pages for reception and administrators.

Appointments are booked and changed through the services (the same rules as the API):
the admin shows them with filters and offers status actions, but no free-form edits of times.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.admin import ADMINS_ONLY, GroupScopedAdmin, ReadOnlyInline, RecordAdmin, ScopedInline, may
from backend.errors import ApplicationError
from scheduling.models import (
    Appointment,
    AppointmentStaff,
    Clearance,
    Closure,
    Location,
    OpeningRule,
    Patient,
    ReferringProvider,
    Reminder,
    Resource,
    Series,
    SeriesChange,
    SeriesTemplate,
    ServiceType,
    Shift,
    StaffMember,
)
from scheduling.permissions import CLEARANCE_ROLES, PATIENT_EDIT_ROLES, REFERRER_EDIT_ROLES, can_transition
from scheduling.services.reminders import reminder_retry
from scheduling.services.series import series_status
from scheduling.services.transitions import appointment_transition


class OpeningRuleInline(ScopedInline):
    model = OpeningRule


class ClosureInline(ScopedInline):
    model = Closure


@admin.register(Location)
class LocationAdmin(GroupScopedAdmin):
    list_display = ("name", "group", "timezone", "currency", "phone")
    list_filter = ("group", "timezone")
    search_fields = ("name", "address")
    inlines = (OpeningRuleInline, ClosureInline)
    readonly_fields = ("public_id",)


@admin.register(Resource)
class ResourceAdmin(GroupScopedAdmin):
    group_path = "location__group"
    list_display = ("name", "location", "kind", "is_active")
    list_filter = ("location", "kind", "is_active")
    readonly_fields = ("public_id",)


class ShiftInline(ScopedInline):
    model = Shift


@admin.register(StaffMember)
class StaffMemberAdmin(GroupScopedAdmin):
    list_display = ("name", "group", "roles", "npi", "is_active")
    list_filter = ("group", "locations", "is_active")
    search_fields = ("name", "npi")
    filter_horizontal = ("locations",)
    inlines = (ShiftInline,)
    readonly_fields = ("public_id",)


@admin.register(ServiceType)
class ServiceTypeAdmin(GroupScopedAdmin):
    list_display = ("name", "code", "duration_minutes", "recovery_minutes", "resource_kind", "price", "currency")
    list_filter = ("group", "resource_kind", "requires_clearance", "is_active")
    search_fields = ("name", "code")
    readonly_fields = ("public_id",)


class ClearanceInline(ReadOnlyInline):
    """The clearance history. Clinicians record clearance through the API
    (POST /patients/{id}/clearance/), which stamps who recorded it and checks the expiry."""

    model = Clearance
    fields = ("status", "valid_until", "notes", "recorded_by", "recorded_at")
    read_roles = CLEARANCE_ROLES  # clinical notes: the API shows them to clinicians and admins only


@admin.register(ReferringProvider)
class ReferringProviderAdmin(RecordAdmin):
    write_roles = REFERRER_EDIT_ROLES
    list_display = ("name", "credentials", "practice", "npi", "email", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "practice", "npi")


@admin.register(Patient)
class PatientAdmin(RecordAdmin):
    """A patient's login (``user``) is shown, never chosen here: a record attached to the wrong login would
    show one patient's visits and bills to someone else."""

    write_roles = PATIENT_EDIT_ROLES
    list_display = ("last_name", "first_name", "date_of_birth", "email", "phone", "email_consent", "sms_consent")
    list_filter = ("group", "email_consent", "sms_consent")
    search_fields = ("last_name", "first_name", "email", "phone")
    inlines = (ClearanceInline,)
    readonly_fields = ("public_id", "user")


class AppointmentStaffInline(ReadOnlyInline):
    model = AppointmentStaff
    fields = ("staff", "role", "start", "end", "is_blocking")


def _transition_action(name: str, label: str) -> Any:
    @admin.action(description=label)
    def apply(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        if not can_transition(request.user, name):  # the API's role matrix, for the admin too
            modeladmin.message_user(request, f"Your role may not {label.lower()}.", messages.ERROR)
            return
        done = 0
        for appointment in queryset:
            try:
                appointment_transition(
                    actor=request.user,  # type: ignore[arg-type]
                    appointment=appointment,
                    action=name,
                    reason="Cancelled at the front desk" if name == "cancel" else "",
                )
                done += 1
            except ApplicationError as error:
                modeladmin.message_user(request, f"{appointment}: {error.detail}", messages.WARNING)
        if done:
            modeladmin.message_user(request, f"{label}: {done} appointment(s).", messages.SUCCESS)

    apply.__name__ = f"action_{name}"
    return apply


@admin.register(Appointment)
class AppointmentAdmin(RecordAdmin):
    """Booked and moved through the API or the console, where every rule is checked; status changes here
    are actions, each offered by the API's ``can_transition`` rule."""

    group_path = "location__group"
    write_roles = ()
    list_display = ("start", "patient", "service_type", "location", "resource", "status", "cancelled_late")
    list_filter = ("status", "location", "service_type", ("start", admin.DateFieldListFilter))
    date_hierarchy = "start"
    search_fields = ("patient__last_name", "patient__first_name", "public_id")
    list_select_related = ("patient", "service_type", "location", "resource")
    readonly_fields = (
        "public_id", "patient", "service_type", "location", "resource", "start", "end", "hold_until", "status",
        "cancel_reason", "cancelled_late", "cancelled_at", "created_by", "created_at", "updated_at",
    )  # fmt: skip
    inlines = (AppointmentStaffInline,)
    actions = (
        _transition_action("confirm", "Confirm"),
        _transition_action("check_in", "Check in"),
        _transition_action("no_show", "Mark no-show"),
        _transition_action("cancel", "Cancel"),
    )


@admin.register(SeriesTemplate)
class SeriesTemplateAdmin(GroupScopedAdmin):
    list_display = (
        "name",
        "group",
        "location",
        "service_type",
        "count",
        "min_gap_hours",
        "max_per_week",
        "within_days",
    )
    list_filter = ("group", "location")
    readonly_fields = ("public_id",)


class SeriesAppointmentInline(ReadOnlyInline):
    model = Appointment
    fields = ("start", "resource", "status", "cancelled_late")
    show_change_link = True


class SeriesChangeInline(ReadOnlyInline):
    model = SeriesChange
    fields = ("kind", "created_at", "actor", "details", "notified_at")


@admin.register(Series)
class SeriesAdmin(RecordAdmin):
    """A series as a unit: its protocol, visits and the changes the patient is told about."""

    group_path = "location__group"
    write_roles = ()  # booked, extended and cancelled through the API or the console
    list_display = ("patient", "service_type", "location", "first_date", "count", "status")
    list_filter = ("location", "service_type", ("first_date", admin.DateFieldListFilter))
    search_fields = ("patient__last_name", "patient__first_name", "public_id")
    list_select_related = ("patient", "service_type", "location")
    readonly_fields = (
        "public_id", "patient", "service_type", "location", "template", "count", "first_date", "local_time",
        "weekdays", "min_gap_hours", "max_per_week", "within_days", "resource", "cancelled_at", "cancel_reason",
        "created_by", "created_at",
    )  # fmt: skip
    inlines = (SeriesAppointmentInline, SeriesChangeInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Series]:
        return super().get_queryset(request).prefetch_related("appointments")

    @admin.display(description="Status")
    def status(self, series: Series) -> str:
        return series_status(series, list(series.appointments.all()))


@admin.register(Reminder)
class ReminderAdmin(RecordAdmin):
    """The outbox: every message due to a patient, its state and attempts; failed rows can be retried."""

    group_path = "patient__group"
    write_roles = ()
    list_display = ("due_at", "patient", "channel", "kind", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel", "kind", ("due_at", admin.DateFieldListFilter))
    search_fields = ("patient__last_name", "public_id", "provider_id")
    list_select_related = ("patient",)
    readonly_fields = (
        "public_id", "kind", "appointment", "series_change", "patient", "channel", "offset_hours", "due_at", "status",
        "queued_at", "attempts", "provider_id", "sent_at", "last_error", "created_at", "updated_at",
    )  # fmt: skip
    actions = ("retry_failed",)

    @admin.action(description="Retry failed reminders")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        if not may(request, ADMINS_ONLY):
            self.message_user(request, "Only administrators retry reminders.", messages.ERROR)
            return
        retried = sum(reminder_retry(reminder_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{retried} failed reminder(s) will be sent again.", messages.SUCCESS)
