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
from backend.fields import PublicIdField
from backend.permissions import acting_user
from backend.throttling import DocumentEmailThrottle
from billing.models import Document
from billing.permissions import ReadBilling
from billing.services.documents import document_email_request, superbill_request
from scheduling.selectors import patients_for, series_for
from scheduling.time import local_date


class _SuperbillQuery(serializers.Serializer):
    """A date range, or one series (its visits' dates unless a range is given too)."""

    series = PublicIdField(name="series", scope=series_for, required=False, help_text="Only this series' visits.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end, series = attrs.get("from"), attrs.get("to"), attrs.get("series")
        if series is None and (start is None or end is None):
            missing = {name: ["Required without a series."] for name in ("from", "to") if attrs.get(name) is None}
            raise serializers.ValidationError(missing)
        if series is not None and (start is None or end is None):
            days = [local_date(moment, series.location.zone)
                    for moment in series.appointments.values_list("start", flat=True)]  # fmt: skip
            if not days:
                raise serializers.ValidationError({"series": ["This series has no visits."]})
            attrs["from"], attrs["to"] = start or min(days), end or max(days)
        return attrs


# "from" is a Python keyword: the fields are added with type(), as scheduling.api.ranges does.
SuperbillQuery: Any = type("SuperbillQuery", (_SuperbillQuery,), {
    "from": serializers.DateField(required=False), "to": serializers.DateField(required=False),
})  # fmt: skip


class SuperbillView(APIView):
    """A patient's superbill for a date range or one series: the PDF, or 202 while it renders."""

    permission_classes = (ReadBilling,)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", date, description="First service date (local); required without a series"),
            OpenApiParameter("to", date, description="Last service date (local), inclusive; required without a series"),
            OpenApiParameter("series", str, description="Only this series' visits (its dates unless from/to)"),
        ],
        responses=PDF_RESPONSES,
    )
    def get(self, request: Request, id: str) -> HttpResponseBase:
        return document_response(_superbill(request, id, request.query_params))


def _superbill(request: Request, patient_id: str, data: Any) -> Document:
    query = SuperbillQuery(data=data, context={"request": request})
    query.is_valid(raise_exception=True)
    values = query.validated_data
    patient = get_object_or_404(patients_for(request.user), public_id=patient_id)
    series = values.get("series")
    if series is not None and series.patient_id != patient.pk:
        raise serializers.ValidationError({"series": ["Not a series of this patient."]})
    return superbill_request(patient=patient, start=values["from"], end=values["to"], series=series,
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

    @extend_schema(request=SuperbillQuery, responses={202: DocumentEmailOutput})
    def post(self, request: Request, id: str) -> Response:
        document = document_email_request(document=_superbill(request, id, request.data))
        return Response(DocumentEmailOutput(document).data, status=status.HTTP_202_ACCEPTED)
