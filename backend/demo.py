"""Demo users, one per role (the apps' demo modules link them to clinics and patients)."""

from __future__ import annotations

from django.contrib.auth.models import Group

from backend.models import User
from backend.roles import Role

DEMO_USERS = {
    "admin": ("Ada", "Admin", Role.ADMIN),
    "reception": ("Rita", "Front", Role.RECEPTION),
    "clinician": ("Maya", "Chen", Role.CLINICIAN),
    "accountant": ("Avery", "Books", Role.ACCOUNTANT),
    "patient": ("Alex", "Rivera", Role.PATIENT),
}


def seed(*, password: str) -> str:
    created = 0
    for username, (first, last, role) in DEMO_USERS.items():
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.clinic.invalid"},
        )
        created += was_created
        user.is_staff = role != Role.PATIENT  # staff roles may use the Django admin, within their permissions
        user.is_superuser = role == Role.ADMIN
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return f"{created} users created, {len(DEMO_USERS)} logins ready"
