import math
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from backend.access import scoped
from backend.models import ClinicGroup, User
from backend.throttling import sign_in_wait


class GroupScopedAdmin(admin.ModelAdmin):
    """The admin shows a staff user only their clinic groups' rows, by the API's rule (``backend.access``)."""

    group_path = "group"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(request.user, super().get_queryset(request), self.group_path)


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
