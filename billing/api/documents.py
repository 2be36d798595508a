"""Serving rendered documents: the PDF when it is ready, 202 with its status while it renders."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.documents import PDF_RESPONSES, document_response
from backend.permissions import acting_user
from backend.throttling import DocumentEmailThrottle
from billing.models import Document
from billing.permissions import ReadBilling
from billing.services.documents import document_email_request, superbill_request
from scheduling.api.ranges import DateRange
from scheduling.selectors import patients_for


class SuperbillView(APIView):
    """A patient's superbill for a date range: the PDF, or 202 while it renders."""

    permission_classes = (ReadBilling,)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", date, required=True, description="First service date (local)"),
            OpenApiParameter("to", date, required=True, description="Last service date (local), inclusive"),
        ],
        responses=PDF_RESPONSES,
    )
    def get(self, request: Request, id: str) -> HttpResponseBase:
        return document_response(_superbill(request, id, request.query_params))


def _superbill(request: Request, patient_id: str, data: Any) -> Document:
    query = DateRange(data=data)
    query.is_valid(raise_exception=True)
    patient = get_object_or_404(patients_for(request.user), public_id=patient_id)
    return superbill_request(patient=patient, start=query.validated_data["from"], end=query.validated_data["to"],
                             actor=acting_user(request))  # fmt: skip


class DocumentEmailOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    status = serializers.CharField(help_text="The PDF's rendering")
    email_status = serializers.CharField(help_text="pending until the worker has sent it, then sent")


class SuperbillEmailView(APIView):
    """Email the superbill for a date range to the patient (reading it never does); limited per user."""

    permission_classes = (ReadBilling,)
    throttle_classes = (DocumentEmailThrottle,)

    @extend_schema(request=DateRange, responses={202: DocumentEmailOutput})
    def post(self, request: Request, id: str) -> Response:
        document = document_email_request(document=_superbill(request, id, request.data))
        return Response(DocumentEmailOutput(document).data, status=status.HTTP_202_ACCEPTED)
