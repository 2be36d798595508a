"""SMS through a provider backend: Twilio in production, a local recorder in development.

``SMS_BACKEND`` picks it: ``local`` (default) appends every message to
``var/sms/messages.jsonl``; ``twilio`` sends through Twilio's REST API with the
reminder's id as Twilio's idempotency token (``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN``, ``TWILIO_FROM_NUMBER``; ``TWILIO_API_BASE_URL`` points
the client elsewhere, as the tests do with a local server that speaks the API).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from worker.channels.base import OutgoingMessage, PermanentDeliveryError, TransientDeliveryError


class SmsBackend(Protocol):
    def send(self, message: OutgoingMessage) -> str: ...


class LocalSmsBackend:
    """Records each message as a JSON line; the same idempotency key is recorded once."""

    _lock = threading.Lock()

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or Path(settings.VAR_DIR) / "sms") / "messages.jsonl"

    def send(self, message: OutgoingMessage) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        provider_id = f"local-{message.idempotency_key}"
        with self._lock, self.path.open("a+", encoding="utf-8") as log:
            log.seek(0)
            if any(json.loads(line)["id"] == provider_id for line in log if line.strip()):
                return provider_id
            log.write(json.dumps({"id": provider_id, "to": message.to, "body": message.text, "at": time.time()}) + "\n")
        return provider_id


class TwilioSmsBackend:
    """Twilio's Messages API through the official client, with an idempotency token per reminder."""

    def __init__(self) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        token_holder = threading.local()

        class IdempotentHttpClient(TwilioHttpClient):
            def request(self, method: str, url: str, *args: Any, headers: dict[str, str] | None = None,
                        **kwargs: Any) -> Any:  # fmt: skip
                headers = dict(headers or {})
                key = getattr(token_holder, "key", None)
                if key:
                    headers["I-Twilio-Idempotency-Token"] = key
                return super().request(method, url, *args, headers=headers, **kwargs)

        self._token = token_holder
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=IdempotentHttpClient(timeout=10)
        )
        if settings.TWILIO_API_BASE_URL:
            self.client.api.base_url = settings.TWILIO_API_BASE_URL

    def send(self, message: OutgoingMessage) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        self._token.key = message.idempotency_key
        try:
            sent = self.client.messages.create(to=message.to, from_=settings.TWILIO_FROM_NUMBER, body=message.text)
        except TwilioRestException as error:
            if error.status == 429 or error.status >= 500:
                raise TransientDeliveryError(f"Twilio {error.status}: {error.msg}") from error
            raise PermanentDeliveryError(f"Twilio {error.status} ({error.code}): {error.msg}") from error
        except (TwilioException, OSError) as error:
            raise TransientDeliveryError(f"Twilio unreachable: {error}") from error
        finally:
            self._token.key = None
        return str(sent.sid)


_backends: dict[str, SmsBackend] = {}


def sms_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    if name not in _backends:
        if name == "twilio":
            _backends[name] = TwilioSmsBackend()
        elif name == "local":
            _backends[name] = LocalSmsBackend()
        else:
            raise ValueError(f"unknown SMS_BACKEND {name!r}; use 'local' or 'twilio'")
    return _backends[name]


def send_sms(message: OutgoingMessage) -> str:
    return sms_backend().send(message)
