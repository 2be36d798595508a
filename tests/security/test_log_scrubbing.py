"""Signed link tokens never reach a log: Django's request logs and gunicorn's access log scrub them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client
from gunicorn.config import Config

from backend.logscrub import ScrubbingGunicornLogger, scrub

TOKEN = "eyJhIjoiY29uZmlybSJ9:1vQ2xZ:Zm9vYmFyYmF6cXV4"


@pytest.mark.parametrize(
    ("logged", "kept"),
    [
        (f"GET /r/confirm/{TOKEN}/ HTTP/1.1", "GET /r/confirm/[token]/ HTTP/1.1"),
        (f"Not Found: /r/unsubscribe/{TOKEN}/", "Not Found: /r/unsubscribe/[token]/"),
        (f"https://clinic.example/r/cancel/{TOKEN}/?x=1", "https://clinic.example/r/cancel/[token]/?x=1"),
        ("GET /api/v1/patients/?search=r HTTP/1.1", "GET /api/v1/patients/?search=r HTTP/1.1"),
    ],
)
def test_scrub_replaces_the_token_of_public_links_only(logged: str, kept: str) -> None:
    assert scrub(logged) == kept


def test_a_refused_link_is_logged_without_its_token(db: None, caplog: pytest.LogCaptureFixture) -> None:
    response = Client().post(f"/r/unsubscribe/{TOKEN}/")

    assert response.status_code >= 400
    assert "/r/unsubscribe/[token]/" in caplog.text
    assert TOKEN not in caplog.text


def test_gunicorn_access_lines_are_scrubbed_in_every_field() -> None:
    logger = ScrubbingGunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/r/confirm/{TOKEN}/", "PATH_INFO": f"/r/confirm/{TOKEN}/",
        "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "", "HTTP_REFERER": f"https://clinic.example/r/confirm/{TOKEN}/",
        "REMOTE_ADDR": "203.0.113.9",
    }  # fmt: skip
    request = SimpleNamespace(headers=[("REFERER", f"https://clinic.example/r/confirm/{TOKEN}/")])
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]), request, environ,
                         dt.timedelta(milliseconds=5))  # fmt: skip

    assert atoms["r"] == "GET /r/confirm/[token]/ HTTP/1.1"
    assert not [key for key, value in atoms.items() if TOKEN in str(value)]
