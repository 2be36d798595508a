from __future__ import annotations

import pytest
from django.test import Client
from pytest_django import Settings as DjangoSettings

from tests.processes import RedisServer

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_answers_503_when_the_broker_stops(
    client: Client, settings: DjangoSettings, private_redis: RedisServer
) -> None:
    # given a broker that answers
    settings.CELERY_BROKER_URL = private_redis.url
    assert client.get("/healthz").status_code == 200

    # when it stops
    private_redis.stop()

    # then health is honest about it
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "unavailable"}
