"""What every console page's header needs: which sections the signed-in user may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from console.access import allowed


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/console/"):
        return {}
    return {
        "nav": {
            rule: allowed(user, rule)
            for rule in (
                "staff",
                "booking",
                "billing",
                "write_invoices",
                "accounting",
                "patient",
                "clinical",
                "follow_up",
                "waitlist",
            )
        }
    }
