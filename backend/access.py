"""Who may see which clinic group's rows: the one rule every selector, admin page and API lookup uses.

Superusers see every clinic group. Other users with a staff role see the groups they are members of
(``ClinicGroup.members``); their group ids are read once per request (with the token, for token
sign-in). Anyone else sees no group-scoped rows: patients reach their own records through their
selectors, which scope by the patient instead.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from backend.roles import STAFF_ROLES


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
