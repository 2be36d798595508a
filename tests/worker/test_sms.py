"""SMS through the real twilio client against a local server that speaks its API; replies and opt-outs."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client
from pytest_django import Settings as DjangoSettings
from twilio.request_validator import RequestValidator

from scheduling.links import unsubscribe_token
from scheduling.models import Reminder, ReminderStatus
from scheduling.services.appointments import appointment_book
from tests.fake_twilio import INVALID_NUMBER, UNAVAILABLE_NUMBER, FakeTwilio
from tests.scheduling.conftest import Clinic, ny
from worker.channels import sms
from worker.channels.base import OutgoingMessage, TransientDeliveryError
from worker.reminders import reminder_deliver

MONDAY = dt.date(2026, 10, 5)


@pytest.fixture
def twilio(settings: DjangoSettings) -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = fake.account_sid, fake.auth_token
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE_URL = "+16175550000", fake.url
    sms._backends.clear()
    yield fake
    sms._backends.clear()
    fake.stop()


def _queued_sms(clinic: Clinic) -> Reminder:
    appointment = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                                   location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip
    reminder = appointment.reminders.get(offset_hours=24, channel="sms")
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.QUEUED)
    return reminder


def test_an_sms_reminder_goes_through_twilio_with_an_idempotency_token(clinic: Clinic, twilio: FakeTwilio) -> None:
    reminder = _queued_sms(clinic)

    assert reminder_deliver(reminder_id=reminder.pk) == "sent"

    reminder.refresh_from_db()
    [message] = twilio.messages
    assert message["to"] == clinic.patient.phone
    assert message["from"] == "+16175550000"
    assert message["idempotency_token"] == str(reminder.public_id)
    assert reminder.provider_id == message["sid"]
    assert "Boston: reminder of your visit Mon 05 Oct 09:00 EDT" in message["body"]


def test_a_resend_with_the_same_token_is_not_a_second_message(twilio: FakeTwilio, settings: DjangoSettings) -> None:
    backend = sms.sms_backend()
    message = OutgoingMessage(to="+16175550123", text="hello", idempotency_key="same-key")

    first, second = backend.send(message), backend.send(message)

    assert first == second
    assert len(twilio.messages) == 1
    assert twilio.requests == 2


def test_an_invalid_number_is_a_recorded_permanent_failure(clinic: Clinic, twilio: FakeTwilio) -> None:
    clinic.patient.phone = INVALID_NUMBER
    clinic.patient.save()
    reminder = _queued_sms(clinic)

    assert reminder_deliver(reminder_id=reminder.pk) == "failed"

    reminder.refresh_from_db()
    assert "21211" in reminder.last_error
    assert twilio.messages == []


def test_a_provider_outage_is_transient(clinic: Clinic, twilio: FakeTwilio) -> None:
    clinic.patient.phone = UNAVAILABLE_NUMBER
    clinic.patient.save()
    reminder = _queued_sms(clinic)

    with pytest.raises(TransientDeliveryError):
        reminder_deliver(reminder_id=reminder.pk)

    reminder.refresh_from_db()
    assert reminder.status == "queued"


def test_the_local_backend_records_messages_under_var(tmp_path: Path, settings: DjangoSettings) -> None:
    settings.VAR_DIR = tmp_path
    backend = sms.LocalSmsBackend()

    backend.send(OutgoingMessage(to="+16175550123", text="hello", idempotency_key="k1"))
    backend.send(OutgoingMessage(to="+16175550123", text="hello", idempotency_key="k1"))

    lines = (tmp_path / "sms" / "messages.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert '"to": "+16175550123"' in lines[0]


# --- inbound replies --------------------------------------------------------------------------


def _inbound(settings: DjangoSettings, body: str, number: str, *, sign: bool = True) -> tuple[int, str]:
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    params = {"From": number, "Body": body, "MessageSid": "SM1"}
    url = settings.PUBLIC_BASE_URL.rstrip("/") + "/api/v1/sms/inbound/"
    signature = RequestValidator("secret-token").compute_signature(url, params) if sign else "forged"
    response = Client().post(
        "/api/v1/sms/inbound/", urlencode(params), content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )  # fmt: skip
    return response.status_code, response.content.decode()


def test_replying_c_confirms_the_next_visit(clinic: Clinic, settings: DjangoSettings) -> None:
    appointment = appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion,
                                   location=clinic.location, start=ny(MONDAY, 9))  # fmt: skip

    status, body = _inbound(settings, " c ", clinic.patient.phone)

    assert status == 200
    assert "is confirmed" in body
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_stop_opts_out_from_now_on(clinic: Clinic, settings: DjangoSettings) -> None:
    reminder = _queued_sms(clinic)

    status, _ = _inbound(settings, "STOP", clinic.patient.phone)

    assert status == 200
    clinic.patient.refresh_from_db()
    assert clinic.patient.sms_consent is False
    reminder.refresh_from_db()
    assert reminder.status == "skipped"
    assert clinic.patient.reminders.filter(channel="sms", status="pending").count() == 0


def test_an_unsigned_webhook_call_is_refused(clinic: Clinic, settings: DjangoSettings) -> None:
    status, _ = _inbound(settings, "STOP", clinic.patient.phone, sign=False)

    assert status == 403
    clinic.patient.refresh_from_db()
    assert clinic.patient.sms_consent is True


def test_the_email_unsubscribe_link_turns_email_off(clinic: Clinic) -> None:
    url = f"/r/unsubscribe/{unsubscribe_token(clinic.patient)}/"

    assert Client().get(url).status_code == 200
    clinic.patient.refresh_from_db()
    assert clinic.patient.email_consent is True  # GET only asks
    assert Client().post(url).status_code == 200
    clinic.patient.refresh_from_db()
    assert clinic.patient.email_consent is False


def test_the_readme_curl_signature_is_accepted_by_a_local_run(clinic: Clinic, settings: DjangoSettings) -> None:
    """README: HMAC-SHA1 (openssl) of the URL followed by each parameter's name and value, sorted, in base64."""
    from backend.devstack import LOCAL_SMS_SECRET

    settings.TWILIO_AUTH_TOKEN = LOCAL_SMS_SECRET
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    appointment_book(actor=None, patient=clinic.patient, service_type=clinic.infusion, location=clinic.location,
                     start=ny(dt.date(2026, 10, 5), 9))  # fmt: skip
    url = "http://127.0.0.1:8000/api/v1/sms/inbound/"
    signed = f"{url}BodyCFrom{clinic.patient.phone}".encode()
    signature = base64.b64encode(hmac.new(LOCAL_SMS_SECRET.encode(), signed, hashlib.sha1).digest()).decode()

    response = Client().post(
        "/api/v1/sms/inbound/", urlencode({"From": clinic.patient.phone, "Body": "C"}),
        content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature,
    )  # fmt: skip

    assert response.status_code == 200
    assert "is confirmed" in response.content.decode()
