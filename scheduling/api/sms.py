"""Inbound SMS webhook (Twilio): replies of C/Y confirm, STOP opts out. The request signature is checked."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from scheduling.services.patient_replies import sms_reply


def signature_is_valid(request: Request) -> bool:
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        return False
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    params = {key: request.data.get(key) for key in request.data}
    return RequestValidator(token).validate(url, params, request.headers.get("X-Twilio-Signature", ""))


class InboundSmsView(APIView):
    """Twilio's messaging webhook. Configure it as PUBLIC_BASE_URL + /api/v1/sms/inbound/."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    parser_classes = (FormParser,)

    @extend_schema(exclude=True)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        if not signature_is_valid(request):
            raise PermissionDenied("The request signature is not valid.")
        answer = sms_reply(from_number=str(request.data.get("From", "")), body=str(request.data.get("Body", "")))
        twiml = f"<Response><Message>{escape(answer)}</Message></Response>" if answer else "<Response/>"
        return HttpResponse(f'<?xml version="1.0" encoding="UTF-8"?>{twiml}', content_type="text/xml")
