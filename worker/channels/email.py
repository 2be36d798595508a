"""Email through Django's email framework (SMTP in production, the local sink in development).

The reminder's id becomes the Message-ID, so a provider (or the local sink) can
recognise a message it has already accepted.
"""

from __future__ import annotations

import contextlib
import smtplib
import threading
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from worker.channels.base import OutgoingMessage, PermanentDeliveryError, TransientDeliveryError

_local = threading.local()


def _connection() -> Any:
    """One open SMTP connection per worker thread, reused across messages and reopened when it drops.

    It must be opened here: a backend that is not open connects and disconnects around every send.
    """
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = get_connection(fail_silently=False)
        connection.open()
        _local.connection = connection
    return connection


def _send(email: EmailMultiAlternatives) -> None:
    """Send over the thread's connection; a connection the server closed while idle is reopened once."""
    for attempt in (1, 2):
        email.connection = _connection()
        try:
            email.send()
        except smtplib.SMTPServerDisconnected:
            _reset()
            if attempt == 2:
                raise
        else:
            return


def _reset() -> None:
    connection = getattr(_local, "connection", None)
    if connection is not None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail; it is dropped anyway
            connection.close()
    _local.connection = None


def message_id(key: str) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "clinic.invalid"
    return f"<{key}@{domain}>"


def send_email(message: OutgoingMessage) -> str:
    """Send; return the Message-ID. Raises Transient/PermanentDeliveryError."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[message.to],
        headers={"Message-ID": message_id(message.idempotency_key)},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for filename, content, mimetype in message.attachments:
        email.attach(filename, content, mimetype)
    try:
        _send(email)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentDeliveryError(f"recipient refused: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        _reset()
        if 500 <= error.smtp_code < 600:
            raise PermanentDeliveryError(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
        raise TransientDeliveryError(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from error
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        _reset()
        raise TransientDeliveryError(f"SMTP unavailable: {error}") from error
    return message_id(message.idempotency_key)
