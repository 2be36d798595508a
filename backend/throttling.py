"""Rate limits (OWASP API4): sign-in attempts, bookings and exports, answered with 429 in the error format.

Counters live in the Django cache's Redis (in production, so every web
process shares them): each key holds the times of the requests still inside
the window (DRF's sliding window), checked and updated by one Lua script in
one round trip; DRF's own implementation (two cache calls) serves any other
cache backend (tests use local memory). If the store is unreachable the limit
fails open: the request goes through and a warning is logged, because
refusing every booking while Redis restarts would hurt the clinic more than
an unthrottled minute. Rates are settings (``THROTTLE_RATES``), read on every
request.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest
from redis.commands.core import Script
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"

# KEYS[1]: the counter; ARGV: now, window (s), limit, a unique member. Drops times that left the window
# (at or before now - window, as DRF does), refuses at the limit, else records now. Returns {allowed, oldest}.
SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or ARGV[1]
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0, oldest}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {1, oldest}
"""


@cache
def _window_script(location: str) -> Script:
    """The script on a client of its own for the cache's Redis (one per process and address)."""
    client = redis.Redis.from_url(location, **settings.REDIS_CACHE_OPTIONS)
    return client.register_script(SLIDING_WINDOW)


class FailOpenThrottle(SimpleRateThrottle):
    scope: str
    num_requests: int  # both set by DRF's __init__ from the rate
    duration: int
    refused_oldest: float | None = None

    def get_rate(self) -> str | None:
        rate: str | None = settings.THROTTLE_RATES.get(self.scope)
        return rate

    def applies(self, request: Request, view: Any) -> bool:
        return True

    def allow_request(self, request: Request, view: Any) -> bool:
        return self.allow(request, view) if self.applies(request, view) else True

    def allow(self, request: Request, view: Any = None) -> bool:
        """Count this request against the limit (whatever ``applies`` says); False when over it."""
        try:
            store: dict[str, Any] = settings.CACHES["default"]
            if store["BACKEND"] != REDIS_CACHE or self.rate is None:
                return super().allow_request(request, view)
            self.key = self.get_cache_key(request, view)
            return True if self.key is None else self._allow_in_redis(store["LOCATION"])
        except APIException:  # reading the body for the key found it malformed: that is the answer
            raise
        except Exception:  # the cache (Redis) is down: fail open
            logger.warning("rate limit store unavailable; %s not limited", self.scope, exc_info=True)
            return True

    def _allow_in_redis(self, location: str) -> bool:
        self.now = self.timer()
        key = self.cache.make_key(f"{self.key}:window")
        allowed, oldest = _window_script(location)(
            keys=[key], args=[repr(self.now), self.duration, self.num_requests, f"{self.now!r}:{uuid.uuid4().hex}"]
        )
        if allowed:
            return True
        self.refused_oldest = float(oldest)
        return False

    def wait(self) -> float | None:
        if self.refused_oldest is None:
            return super().wait()
        return max(0.0, self.duration - (self.now - self.refused_oldest))


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


class DocumentEmailThrottle(PerUserThrottle):
    """Asking for a document to be emailed (each request sends a message to the patient)."""

    scope = "document_email"


class ExportThrottle(PerUserThrottle):
    """Starting an export job or a direct download."""

    scope = "exports"

    def applies(self, request: Request, view: Any) -> bool:
        return getattr(view, "action", None) in ("create", "stream")


def form_post_wait(request: HttpRequest, *throttles: type[FailOpenThrottle]) -> float | None:
    """Seconds to wait when a form post (admin, console) is over one of these API limits; None when within.

    The form post counts against the same counters as the API request it stands for.
    """
    drf_request = Request(request, parsers=[FormParser(), MultiPartParser()])
    if hasattr(request, "user"):  # the session's user: per-user limits count per user
        drf_request.user = request.user
    for throttle_class in throttles:
        throttle = throttle_class()
        if not throttle.allow(drf_request):
            return throttle.wait() or 1.0
    return None


def sign_in_wait(request: HttpRequest) -> float | None:
    """The API's login limits for a sign-in form: per client address and per username."""
    return form_post_wait(request, LoginPerAddressThrottle, LoginPerUsernameThrottle)
