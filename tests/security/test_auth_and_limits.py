"""Tokens expire and can be revoked; sign-in, booking and export are rate-limited with 429s that fail open."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from pytest_django import Settings as DjangoSettings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backend.embedded import free_port
from backend.roles import Role
from tests.factories import PASSWORD, UserFactory
from tests.scheduling.conftest import Clinic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


def sign_in(client: APIClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_a_token_expires_after_its_lifetime_and_signing_in_again_gives_a_new_one(
    api_client: APIClient, settings: DjangoSettings
) -> None:
    UserFactory(username="frontdesk", roles=[Role.RECEPTION])
    with time_machine.travel(dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC), tick=False) as clock:
        token = sign_in(api_client, "frontdesk").json()["token"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert api_client.get("/api/v1/me/").status_code == 200

        clock.shift(dt.timedelta(hours=settings.AUTH_TOKEN_TTL_HOURS, seconds=1))
        expired = api_client.get("/api/v1/me/")

        assert (expired.status_code, expired.json()["code"]) == (401, "token_expired")
        assert not Token.objects.filter(key=token).exists()
        fresh = sign_in(APIClient(), "frontdesk").json()["token"]
        assert fresh != token
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {fresh}")
        assert api_client.get("/api/v1/me/").status_code == 200


def test_logout_revokes_the_token_at_once(api_client: APIClient) -> None:
    UserFactory(username="frontdesk", roles=[Role.RECEPTION])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {sign_in(api_client, 'frontdesk').json()['token']}")

    assert api_client.post("/api/v1/auth/logout/").status_code == 204

    assert api_client.get("/api/v1/me/").status_code == 401


def test_password_guessing_against_one_account_is_stopped_even_with_the_right_password(
    api_client: APIClient, settings: DjangoSettings
) -> None:
    UserFactory(username="frontdesk")
    UserFactory(username="billing")
    allowed = int(settings.THROTTLE_RATES["login_username"].split("/")[0])
    for _ in range(allowed):
        assert sign_in(api_client, "frontdesk", "guess").status_code == 400

    refused = sign_in(api_client, "FrontDesk")

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert sign_in(api_client, "billing").status_code == 200  # other accounts are not locked out


def test_bookings_and_exports_are_rate_limited_per_user(clinic: Clinic, settings: DjangoSettings) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "booking": "2/min", "exports": "1/min"}
    reception = clinic.client(clinic.reception)
    for _ in range(2):
        assert reception.post("/api/v1/appointments/", {}, format="json").status_code == 400
    assert reception.get("/api/v1/appointments/").status_code == 200  # reading is not limited

    limited = reception.post("/api/v1/series/", {}, format="json")

    assert (limited.status_code, limited.json()["code"]) == (429, "throttled")
    assert clinic.client(clinic.admin).post("/api/v1/appointments/", {}, format="json").status_code == 400
    accountant = clinic.client(clinic.accountant)
    body = {"kind": "invoices", "from": "2026-10-01", "to": "2026-10-31"}
    assert accountant.post("/api/v1/exports/", body, format="json").status_code == 202
    assert accountant.get("/api/v1/exports/stream/", body).status_code == 429
    assert accountant.get("/api/v1/exports/").status_code == 200


def test_limits_fail_open_when_the_counter_store_is_down(api_client: APIClient, settings: DjangoSettings) -> None:
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": settings.REDIS_CACHE_OPTIONS,
    }}  # fmt: skip  # as in production settings, with nothing listening
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_username": "1/min", "login_address": "1/min"}
    UserFactory(username="frontdesk")

    answers = [sign_in(api_client, "frontdesk").status_code for _ in range(3)]

    assert answers == [200, 200, 200]


def test_limits_in_redis_slide_with_the_clock_in_one_round_trip(
    clinic: Clinic, settings: DjangoSettings, private_redis: Any, frozen_now: time_machine.Traveller
) -> None:
    """The production store: DRF's sliding window kept in a Redis sorted set by one script call."""
    import redis

    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": private_redis.url,
        "KEY_PREFIX": "cache", "OPTIONS": settings.REDIS_CACHE_OPTIONS,
    }}  # fmt: skip
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "booking": "2/min"}
    reception, admin = clinic.client(clinic.reception), clinic.client(clinic.admin)

    def booking(client: APIClient) -> Any:
        return client.post("/api/v1/appointments/", {}, format="json")

    assert [booking(reception).status_code for _ in range(2)] == [400, 400]
    refused = booking(reception)
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert booking(admin).status_code == 400  # counted per user
    frozen_now.shift(dt.timedelta(seconds=30))
    assert (booking(reception).status_code, booking(reception)["Retry-After"]) == (429, "30")
    frozen_now.shift(dt.timedelta(seconds=31))  # the first two left the window
    assert [booking(reception).status_code for _ in range(3)] == [400, 400, 429]
    store = redis.Redis.from_url(private_redis.url)
    keys = store.keys("cache:*:throttle_booking_*")
    assert sorted(store.type(key) for key in keys) == [b"zset", b"zset"]
    assert max(store.zcard(key) for key in keys) == 2  # refused requests are not recorded


# --- sign-in hardening -----------------------------------------------------------------------------------


def test_each_sign_in_issues_a_new_token_and_ends_the_previous_one(api_client: APIClient) -> None:
    UserFactory(username="frontdesk", roles=[Role.RECEPTION])
    first = sign_in(api_client, "frontdesk").json()["token"]
    second = sign_in(api_client, "frontdesk").json()["token"]

    assert first != second
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api_client.get("/api/v1/me/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api_client.get("/api/v1/me/").status_code == 200


def test_a_password_change_ends_the_users_tokens(api_client: APIClient) -> None:
    user = UserFactory(username="frontdesk", roles=[Role.RECEPTION])
    with time_machine.travel(dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC), tick=False) as clock:
        token = sign_in(api_client, "frontdesk").json()["token"]
        clock.shift(dt.timedelta(minutes=5))
        user.set_password("a-new-passphrase-2026")
        user.save()
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

        refused = api_client.get("/api/v1/me/")

    assert (refused.status_code, refused.json()["code"]) == (401, "token_expired")
    assert not Token.objects.filter(key=token).exists()


def test_the_admin_sign_in_shares_the_apis_limits(settings: DjangoSettings) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_username": "5/min", "login_address": "30/min"}
    UserFactory(username="boss", roles=[Role.ADMIN], is_staff=True)
    owner = Client()
    assert owner.post("/admin/login/", {"username": "boss", "password": PASSWORD}).status_code == 302
    assert "_auth_user_id" in owner.session  # within the limits, signing in works as before
    browser = Client()

    answers = [
        browser.post("/admin/login/", {"username": "boss", "password": f"guess-{n}"}).status_code for n in range(40)
    ]
    right = browser.post("/admin/login/", {"username": "boss", "password": PASSWORD})

    assert answers[:4] == [200] * 4  # the form again, saying the password is wrong
    assert set(answers[4:]) == {429}
    assert right.status_code == 429  # the right password too, until the window has passed
    assert "_auth_user_id" not in browser.session


def test_a_rotating_x_forwarded_for_does_not_reset_the_per_address_limit(settings: DjangoSettings) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_address": "3/min", "login_username": "100/min"}
    client = APIClient()

    answers = [
        client.post("/api/v1/auth/token/", {"username": f"user{n}", "password": "x"}, format="json",
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(6)
    ]  # fmt: skip

    assert answers[:3] == [400, 400, 400]
    assert answers[3:] == [429, 429, 429]
