"""The Django admin's base classes, under the API's rules.

Who may see and change what here comes from the same role constants as the API's permission classes
(``read_roles`` and ``write_roles`` on each admin class), not from Django's model permissions; rows
and choices are limited to the user's clinic groups by ``backend.access``; patients and clinical and
financial records are never deleted. ``tests/security/test_admin_role_matrix.py`` holds every admin
page against the API's role matrix.
"""

import math
from collections.abc import Collection
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from rest_framework.authtoken.models import TokenProxy

from backend.access import scoped, scoped_choices, users_for
from backend.models import ClinicGroup, User
from backend.permissions import user_has_role
from backend.roles import STAFF_ROLES, Role
from backend.throttling import sign_in_wait

ADMINS_ONLY = (Role.ADMIN,)


def may(request: HttpRequest, roles: Collection[str]) -> bool:
    """The signed-in user holds one of ``roles`` (a superuser holds them all; no roles means nobody)."""
    user = request.user
    return bool(roles and user.is_active and (user.is_superuser or user_has_role(user, *roles)))


class RoleRules:
    """``read_roles`` see the rows; ``write_roles`` add, change and delete them (the API's rules for the same
    records). Subclasses narrow what they never allow (``RecordAdmin``: no deletes)."""

    read_roles: Collection[str] = STAFF_ROLES
    write_roles: Collection[str] = ADMINS_ONLY

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may(request, self.read_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, self.read_roles) or self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, self.write_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, self.write_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, self.write_roles)


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


class ScopedInline(RoleRules, ScopedChoices, admin.TabularInline):
    """Rows edited beside their parent, with the parent's scoped choices."""

    extra = 0


class GroupScopedAdmin(RoleRules, ScopedChoices, admin.ModelAdmin):
    """The admin shows a staff user only their clinic groups' rows, by the API's rule (``backend.access``),
    and offers only their groups' records to point at."""

    group_path = "group"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(request.user, super().get_queryset(request), self.group_path)


class RecordAdmin(GroupScopedAdmin):
    """Patients and clinical records: never deleted, by anyone (the history stays whole)."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(RoleRules, admin.TabularInline):
    """Rows shown beside their parent (to ``read_roles``), never added, changed or deleted here."""

    extra = 0
    can_delete = False
    write_roles = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields


def throttled_admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin's sign-in, under the API's login limits (per address and per username)."""
    if request.method == "POST" and (wait := sign_in_wait(request)) is not None:
        response = HttpResponse(
            f"Too many sign-in attempts. Try again in {math.ceil(wait)} seconds.", status=429, content_type="text/plain"
        )
        response["Retry-After"] = str(math.ceil(wait))
        return response
    return admin.site.login(request, extra_context)


# API tokens are credentials: showing them would let whoever reads the page act as their owner.
admin.site.unregister(TokenProxy)


@admin.register(ClinicGroup)
class ClinicGroupAdmin(GroupScopedAdmin):
    group_path = "pk"
    list_display = ("name",)
    filter_horizontal = ("members",)


@admin.register(User)
class UserAdmin(RoleRules, DjangoUserAdmin):
    """Logins: administrators manage those of their clinic groups; only a superuser makes superusers or
    grants Django permissions one by one (roles are the groups)."""

    read_roles = write_roles = ADMINS_ONLY
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "public_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return users_for(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return ("public_id",)
        return ("public_id", "is_superuser", "user_permissions", "last_login", "date_joined")
