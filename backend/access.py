"""Who may see which clinic group's rows: the one rule every selector, admin page and API lookup uses.

Superusers see every clinic group. Other users with a staff role see the groups they are members of
(``ClinicGroup.members``); their group ids are read once per request (with the token, for token
sign-in). Anyone else sees no group-scoped rows: patients reach their own records through their
selectors, which scope by the patient instead.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Model, Q, QuerySet

from backend.roles import STAFF_ROLES, Role


def is_staff_user(user: Any) -> bool:
    """Signed in, and a superuser or holding a staff role (admin, reception, clinician, accountant)."""
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(*STAFF_ROLES)))


def scoped(user: Any, queryset: QuerySet[Any], group: str = "group") -> QuerySet[Any]:
    """Rows of ``queryset`` whose clinic group (reached by the ``group`` path) ``user`` may see as staff.

    The filter is a plain list of the user's group ids rather than a membership subquery.
    """
    if not is_staff_user(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{group}__in": user.clinic_group_ids()})


def users_for(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Logins ``user`` may manage: members of their clinic groups, and staff logins not yet in any group
    (so a new colleague can be added). Patients' logins and other groups' staff are not among them."""
    if not is_staff_user(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    in_no_group = Q(clinic_groups__isnull=True) & ~Q(groups__name=Role.PATIENT)
    return queryset.filter(Q(clinic_groups__in=user.clinic_group_ids()) | in_no_group).distinct()


def group_path(model: type[Model]) -> str | None:
    """How rows of ``model`` reach their clinic group, for ``scoped``; None for rows of no group.

    Anything reaches a group through its own ``group``, its location's or its patient's.
    """
    if model._meta.label == "backend.ClinicGroup":
        return "pk"
    fields = {field.name for field in model._meta.get_fields()}
    for path in ("group", "location__group", "patient__group"):
        if path.split("__", 1)[0] in fields:
            return path
    return None


def scoped_choices(user: Any, model: type[Model]) -> QuerySet[Any] | None:
    """The rows of ``model`` that ``user`` may pick in a form (a foreign key's choices), or None for any."""
    if model._meta.label == settings.AUTH_USER_MODEL:
        return users_for(user, model._default_manager.all())
    path = group_path(model)
    if path is None:
        return None
    return scoped(user, model._default_manager.all(), path).distinct()
