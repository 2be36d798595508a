"""Permission classes by role, for the apps' views.

Usage: ``permission_classes = [HasRole.of(Role.RECEPTION, Role.ADMIN)]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from backend.models import User
from backend.roles import STAFF_ROLES, Role


def acting_user(request: Request) -> User:
    """The signed-in user of a request that passed an authentication-requiring permission."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


def user_has_role(user: Any, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*roles))


class HasRole(BasePermission):
    """Allows users holding any of ``roles``; build subclasses with :meth:`of`."""

    roles: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        name = "Has" + "Or".join(role.title() for role in roles) + "Role"
        return type(name, (cls,), {"roles": frozenset(roles)})

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_has_role(request.user, *self.roles)


class IsStaff(HasRole):
    """Any clinic staff role: admin, reception, clinician or accountant."""

    roles = STAFF_ROLES


class IsAdmin(HasRole):
    roles = frozenset({Role.ADMIN})


class ReadOnlyOrAdmin(BasePermission):
    """Staff may read; only admins write (clinic set-up resources)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *STAFF_ROLES)
        return user_has_role(request.user, Role.ADMIN)
