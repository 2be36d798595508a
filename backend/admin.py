import math
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from backend.access import scoped, scoped_choices
from backend.models import ClinicGroup, User
from backend.throttling import sign_in_wait


class ScopedChoices:
    """Foreign-key and many-to-many choices limited to the user's clinic groups (``backend.access``).

    A record cannot be moved to, or pointed at, a group the user is not in: a value outside the choices is
    the form's "Select a valid choice" error.
    """

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = scoped_choices(request.user, db_field.related_model)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = scoped_choices(request.user, db_field.related_model)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class ScopedInline(ScopedChoices, admin.TabularInline):
    """Rows edited beside their parent, with the parent's scoped choices."""

    extra = 0


class GroupScopedAdmin(ScopedChoices, admin.ModelAdmin):
    """The admin shows a staff user only their clinic groups' rows, by the API's rule (``backend.access``),
    and offers only their groups' records to point at."""

    group_path = "group"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(request.user, super().get_queryset(request), self.group_path)


class RecordAdmin(GroupScopedAdmin):
    """Patients and clinical records: never deleted, by anyone (the history stays whole)."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, never added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def throttled_admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin's sign-in, under the API's login limits (per address and per username)."""
    if request.method == "POST" and (wait := sign_in_wait(request)) is not None:
        response = HttpResponse(
            f"Too many sign-in attempts. Try again in {math.ceil(wait)} seconds.", status=429, content_type="text/plain"
        )
        response["Retry-After"] = str(math.ceil(wait))
        return response
    return admin.site.login(request, extra_context)


@admin.register(ClinicGroup)
class ClinicGroupAdmin(GroupScopedAdmin):
    group_path = "pk"
    list_display = ("name",)
    filter_horizontal = ("members",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "public_id")
    readonly_fields = ("public_id",)
