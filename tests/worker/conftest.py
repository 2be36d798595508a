from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import Settings as DjangoSettings

from backend.mailsink import start_sink
from tests.processes import free_port


class Sink:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port

    def messages(self) -> list[str]:
        return [path.read_text() for path in sorted(self.directory.glob("*.eml"))]

    def received(self) -> list[str]:
        log = self.directory / "received.log"
        return log.read_text().split() if log.exists() else []


@pytest.fixture
def smtp_sink(tmp_path: Path, settings: DjangoSettings) -> Iterator[Sink]:
    """A real SMTP server on loopback, and Django's email pointed at it."""
    from worker.channels import email

    port = free_port()
    controller = start_sink(tmp_path / "mail", port=port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    email._reset()
    yield Sink(tmp_path / "mail", port)
    email._reset()
    controller.stop()
