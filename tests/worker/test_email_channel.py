"""The email channel keeps one SMTP connection per worker thread and reopens it when the server drops it."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from tests.worker.conftest import Sink
from worker.channels import email
from worker.channels.base import OutgoingMessage


class CountingSMTP(smtplib.SMTP):
    opened = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountingSMTP.opened += 1
        super().__init__(*args, **kwargs)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingSMTP]:
    CountingSMTP.opened = 0
    monkeypatch.setattr(smtplib, "SMTP", CountingSMTP)
    return CountingSMTP


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(to=f"p{n}@example.com", subject="Your visit", text="See you soon.", idempotency_key=f"k{n}")


def test_several_messages_share_one_connection(smtp_sink: Sink, counting: type[CountingSMTP]) -> None:
    for n in range(5):
        email.send_email(message(n))

    assert counting.opened == 1
    assert len(smtp_sink.messages()) == 5


def test_a_connection_the_server_dropped_is_reopened_and_the_message_still_goes(
    smtp_sink: Sink, counting: type[CountingSMTP]
) -> None:
    email.send_email(message(1))
    email._connection().connection.close()  # the server hung up while the worker was idle

    email.send_email(message(2))

    assert counting.opened == 2
    assert len(smtp_sink.messages()) == 2
