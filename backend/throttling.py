"""Rate limits (OWASP API4): sign-in attempts, bookings and exports, answered with 429 in the error format.

Counters live in the Django cache (Redis in production, so every web
process shares them). If the cache is unreachable the limit fails open: the
request goes through and a warning is logged, because refusing every booking
while Redis restarts would hurt the clinic more than an unthrottled minute.
Rates are settings (``THROTTLE_RATES``), read on every request.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class FailOpenThrottle(SimpleRateThrottle):
    scope: str

    def get_rate(self) -> str | None:
        rate: str | None = settings.THROTTLE_RATES.get(self.scope)
        return rate

    def applies(self, request: Request, view: Any) -> bool:
        return True

    def allow_request(self, request: Request, view: Any) -> bool:
        if not self.applies(request, view):
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache (Redis) is down: fail open
            logger.warning("rate limit store unavailable; %s not limited", self.scope, exc_info=True)
            return True


class PerUserThrottle(FailOpenThrottle):
    def get_cache_key(self, request: Request, view: Any) -> str | None:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginPerAddressThrottle(FailOpenThrottle):
    """Password guessing from one address, whatever the usernames."""

    scope = "login_address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginPerUsernameThrottle(FailOpenThrottle):
    """Password guessing against one account, from however many addresses."""

    scope = "login_username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        if not isinstance(username, str) or not username.strip():
            return None  # the sign-in itself refuses it
        # Hashed: the key holds no user input (any text is a valid username to guess at).
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BookingThrottle(PerUserThrottle):
    """Every write on appointments and series (book, move, change state, cancel)."""

    scope = "booking"

    def applies(self, request: Request, view: Any) -> bool:
        return request.method not in ("GET", "HEAD", "OPTIONS")


class ExportThrottle(PerUserThrottle):
    """Starting an export job or a direct download."""

    scope = "exports"

    def applies(self, request: Request, view: Any) -> bool:
        return getattr(view, "action", None) in ("create", "stream")
